/**
 * Durable timers. Due times live in the op journal (`wake_at`); the kernel keeps only the next
 * wake-up in memory, rebuilt from the database at start, so a timer that fell due while no process
 * ran fires once right after start.
 */
import type { Clock } from "../shared/index.ts";
import type { KernelContext } from "./context.ts";
import { wakeRun } from "./ready.ts";
import type { Tx } from "./group-commit.ts";
import { fireOpTimer } from "./ops/index.ts";
import { fireMessageTimer } from "./turns.ts";

const TIMERS_PER_BATCH = 500;

/** Fires every due timer (up to a batch); returns when the next one is due, or null. */
export function fireDueTimers(k: KernelContext, tx: Tx): { fired: number; nextAt: number | null } {
  const due = k.store.dueTimers(tx.now, TIMERS_PER_BATCH);
  for (const t of due) {
    const op = k.store.getOp(t.runId, t.opKey)!;
    if (fireOpTimer(k, tx, op)) wakeRun(k, tx, t.runId);
  }
  const dueMessages = k.store.dueMessages(tx.now, TIMERS_PER_BATCH);
  for (const message of dueMessages) fireMessageTimer(k, tx, message);
  return { fired: due.length + dueMessages.length, nextAt: k.store.nextWakeAt() };
}

/** Keeps one OS timer armed for the earliest durable timer. */
export interface WakeTimer {
  arm(at: number | null): void;
  stop(): void;
}

export function createWakeTimer(clock: Clock, onDue: () => void): WakeTimer {
  let armedAt: number | null = null;
  let handle: unknown = null;
  let stopped = false;
  return {
    arm(at) {
      if (stopped || at === null) return;
      if (armedAt !== null && armedAt <= at) return;
      if (handle !== null) clock.clearTimer(handle);
      armedAt = at;
      handle = clock.setTimer(() => {
        handle = null;
        armedAt = null;
        onDue();
      }, at - clock.now());
    },
    stop() {
      stopped = true;
      if (handle !== null) clock.clearTimer(handle);
      handle = null;
    },
  };
}
