/**
 * Durable timers. Due times live in the op journal (`wake_at`); the kernel keeps only the next
 * wake-up in memory, rebuilt from the database at start, so a timer that fell due while no process
 * ran fires once right after start.
 *
 * A sleep is fired ahead of its due time by a lead when its run is blocked on it alone (waiting,
 * no other op open): the batch that records it and leases the run (with its history) is done by
 * the due time, and the code itself waits for the due time before it goes on (engine: a fired
 * sleep never returns early). Nothing else can happen to such a run before then, so its history
 * reads the same to a replay. A sleep beside other open waits (a race with a signal, a branch of
 * `Promise.all`) fires at its due time: an outcome landing before that must come first. So do
 * other timers (signal and exit-wait timeouts, retry backoffs, message timers).
 */
import type { Clock } from "../shared/index.ts";
import type { DueTimer, StoreOps } from "../store/index.ts";
import type { KernelContext } from "./context.ts";
import { wakeRun } from "./ready.ts";
import type { Tx } from "./group-commit.ts";
import { fireOpTimer } from "./ops/index.ts";
import { fireMessageTimer } from "./turns.ts";

const TIMERS_PER_BATCH = 500;

/** Fires every due timer, and the sleeps due within `leadMs` (up to a batch each); says when to look again. */
export async function fireDueTimers(k: KernelContext, tx: Tx, leadMs: number): Promise<{ fired: number; sleeps: number; nextAt: number | null }> {
  const due = await k.store.dueTimers(tx.now, TIMERS_PER_BATCH);
  const soon = leadMs > 0 ? await k.store.dueSleeps(tx.now, tx.now + leadMs, TIMERS_PER_BATCH) : [];
  // Every run and op below is read at once where the store can (PostgreSQL), not one by one.
  // A woken run is leased: its history too.
  await k.store.prefetch?.([...due, ...soon].map((t) => ({ runId: t.runId, opKey: t.opKey, leasing: true })));
  const early: DueTimer[] = [];
  for (const t of soon) if (await blockedOnItAlone(k, t.runId)) early.push(t);
  for (const t of [...due, ...early]) {
    const op = (await k.store.getOp(t.runId, t.opKey))!;
    if (await fireOpTimer(k, tx, op)) await wakeRun(k, tx, t.runId);
  }
  const dueMessages = await k.store.dueMessages(tx.now, TIMERS_PER_BATCH);
  for (const message of dueMessages) await fireMessageTimer(k, tx, message);
  const sleeps = early.length + due.filter((t) => t.kind === "sleep").length;
  return { fired: due.length + early.length + dueMessages.length, sleeps, nextAt: await nextArmAt(k.store, leadMs, tx.now) };
}

/** A run that can be given its sleep ahead of time: waiting, with no other op open. */
async function blockedOnItAlone(k: KernelContext, runId: string): Promise<boolean> {
  return (await k.store.getRun(runId))?.status === "waiting" && await k.store.openOpCount(runId) === 1;
}

/**
 * When the wake-up timer should fire next: another timer's due time; a sleep's due time less the
 * lead; and a sleep already inside the lead (one that could not be fired early, or one left over
 * by the batch limit) at its due time — then the next one beyond the lead, less the lead.
 */
export async function nextArmAt(store: StoreOps, leadMs: number, now: number): Promise<number | null> {
  const { sleep, other } = await store.nextWakes();
  const candidates: number[] = other === null ? [] : [other];
  if (sleep !== null && sleep <= now + leadMs) {
    candidates.push(sleep);
    const beyond = await store.nextSleepAfter(now + leadMs);
    if (beyond !== null) candidates.push(beyond - leadMs);
  } else if (sleep !== null) {
    candidates.push(sleep - leadMs);
  }
  return candidates.length === 0 ? null : Math.min(...candidates);
}

const LEAD = { initialMs: 50, minMs: 5, maxMs: 200, handoverMs: 5, decayMs: 1, ignoreLateOverMs: 1_000 };

/**
 * How far ahead of their due time sleeps fire. At least the last firing batch's time with room to
 * spare; and when code reports that it went on late after a sleep (the hand-over to it took longer
 * than the lead: a worker pool, a loaded machine), that much more. It creeps back down while
 * sleeps wake on time, so runs do not hold their slots longer than they need.
 */
export interface SleepLead {
  readonly ms: number;
  /** A batch that fired sleeps took `batchMs` from its submission to its commit. */
  observe(batchMs: number): void;
  /** Code went on `lateMs` after a sleep's due time. */
  noteLateness(lateMs: number): void;
}

/** Disabled (0 ms) under a test clock, where time moves only when a test says so. */
export function createSleepLead(enabled: boolean): SleepLead {
  let ms = enabled ? LEAD.initialMs : 0;
  let late = 0;
  const clamp = (value: number) => Math.min(LEAD.maxMs, Math.max(LEAD.minMs, Math.ceil(value)));
  return {
    get ms() {
      return ms;
    },
    observe(batchMs) {
      if (!enabled) return;
      const floor = batchMs * 1.5 + LEAD.handoverMs;
      ms = late > 0 ? clamp(Math.max(ms, floor) + late) : clamp(Math.max(floor, ms - LEAD.decayMs));
      late = 0;
    },
    noteLateness(lateMs) {
      // A replay long after its sleep says nothing about the lead.
      if (enabled && lateMs > 1 && lateMs < LEAD.ignoreLateOverMs) late = Math.max(late, lateMs);
    },
  };
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
