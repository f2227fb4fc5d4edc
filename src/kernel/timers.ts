/**
 * Durable timers. Due times live in the op journal (`wake_at`); the kernel keeps only the next
 * wake-up in memory, rebuilt from the database at start, so a timer that fell due while no process
 * ran fires once right after start.
 */
import type { Clock } from "../shared/index.ts";
import { appendEvent, type KernelContext } from "./context.ts";
import { wakeRun } from "./ready.ts";
import type { Tx } from "./group-commit.ts";
import { askTimeoutBody, signalTimeoutBody } from "./op-journal.ts";
import { fireMessageTimer } from "./turns.ts";
import { MESSAGE_STATUS, OP_KIND, OP_STATUS } from "./types.ts";

const TIMERS_PER_BATCH = 500;

/** Fires every due timer (up to a batch); returns when the next one is due, or null. */
export function fireDueTimers(k: KernelContext, tx: Tx): { fired: number; nextAt: number | null } {
  const due = k.store.dueTimers(tx.now, TIMERS_PER_BATCH);
  for (const t of due) {
    const op = k.store.getOp(t.runId, t.opKey)!;
    if (t.status === OP_STATUS.retry_wait) {
      k.store.putOp({ ...op, status: OP_STATUS.retry_ready, wakeAt: null, now: tx.now });
      appendEvent(k, tx, t.runId, "timer_fired", { opKey: t.opKey, purpose: "retry", nextAttempt: t.attempt + 1 });
    } else if (t.kind === OP_KIND.sleep) {
      k.store.putOp({ ...op, status: OP_STATUS.completed, wakeAt: null, now: tx.now });
      appendEvent(k, tx, t.runId, "timer_fired", { opKey: t.opKey, purpose: "sleep" });
    } else if (t.kind === OP_KIND.ask) {
      const meta = JSON.parse(op.meta ?? "{}") as { serviceRunId?: string; messageId?: number; timeoutMs?: number | null };
      const body = askTimeoutBody(meta.serviceRunId ?? "the service", meta.timeoutMs ?? null);
      k.store.putOp({ ...op, status: OP_STATUS.failed, error: JSON.stringify(body), wakeAt: null, now: tx.now });
      appendEvent(k, tx, t.runId, "ask_timed_out", { opKey: t.opKey, messageId: meta.messageId });
      // A message no turn has started is withdrawn; one being handled finishes, and its reply is dropped.
      const message = meta.messageId === undefined ? null : k.store.getMessage(meta.messageId);
      if (message && (message.status === MESSAGE_STATUS.queued || message.status === MESSAGE_STATUS.deferred)) {
        k.store.updateMessage(message.id, { status: MESSAGE_STATUS.cancelled, error: JSON.stringify(body) }, tx.now);
        appendEvent(k, tx, message.serviceRunId, "message_cancelled", { messageId: message.id, reason: "ask timed out" });
      }
    } else if (t.kind === OP_KIND.signal) {
      const timeoutMs = op.meta ? ((JSON.parse(op.meta) as { timeoutMs?: number }).timeoutMs ?? null) : null;
      const body = signalTimeoutBody(t.name, timeoutMs);
      k.store.putOp({ ...op, status: OP_STATUS.failed, error: JSON.stringify(body), wakeAt: null, now: tx.now });
      appendEvent(k, tx, t.runId, "signal_timed_out", { opKey: t.opKey, name: t.name });
    } else {
      // Not a timer kind we know: clear it so it cannot fire forever.
      k.store.putOp({ ...op, wakeAt: null, now: tx.now });
      continue;
    }
    wakeRun(k, tx, t.runId);
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
