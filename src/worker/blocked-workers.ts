/**
 * Workers blocked by code that does not yield (a step in a loop with no timeout): such a worker
 * says nothing — a worker holding work heartbeats every second — and takes no new work, so when
 * every worker of a body of code is blocked the pool starts spare workers, up to the project's
 * bound (`[worker] spare_workers`), and retires them once they are not needed. Activations sent to
 * a worker just before it was seen blocked, which it never read, are taken back and go to
 * another worker. Nothing here kills a blocked worker: a step without a timeout may run as long as
 * it likes, alone on its worker; a cancel ends it. One in which several runs' work had started is
 * evacuated (evacuation.ts).
 */
import type { WorkerPlace } from "../shared/index.ts";
import { owed, type Held, type PoolWorker } from "./pool-worker.ts";

export interface SpareSettings {
  /** Workers beyond the pool's size while others are blocked. */
  workers: number;
  /** Silence of a worker holding work after which it counts as blocked. */
  afterMs: number;
}

/**
 * How long a worker holding work has said nothing, counted at the earliest from when it was sent
 * its oldest activation (a worker that was idle and quiet only starts owing heartbeats then). What
 * it finished (its result awaits its commit) or had taken back is not work it holds: a worker
 * whose results commit slowly is idle, not blocked.
 */
export function silentFor(worker: PoolWorker, now: number): number {
  let oldest: Held | undefined;
  for (const held of worker.held.values()) if (owed(held)) { oldest = held; break; }
  if (oldest === undefined) return 0;
  return now - Math.max(worker.proc.lastHeard, oldest.sentAt);
}

export const isBlocked = (worker: PoolWorker, now: number, afterMs: number): boolean => worker.life.state === "live" && silentFor(worker, now) >= afterMs;

/**
 * What runs in a worker: the steps running there, and the code of each activation it has read and
 * that runs outside any step (no `step`). When it is blocked, the blocker is among them.
 */
export function stepsRunningIn(worker: PoolWorker): NonNullable<WorkerPlace["blockedBy"]> {
  const steps: NonNullable<WorkerPlace["blockedBy"]> = [];
  for (const held of worker.held.values()) {
    if (!owed(held)) continue;
    for (const step of held.steps.values()) steps.push({ runId: held.runId, step: step.name, opKey: step.opKey });
    if (held.steps.size === 0 && held.heard) steps.push({ runId: held.runId });
  }
  return steps;
}

/** Where an activation is: its worker's pid and, when that worker is blocked, for how long and by what. */
export function placeOf(worker: PoolWorker, now: number, afterMs: number): WorkerPlace {
  const silent = silentFor(worker, now);
  if (worker.life.state !== "live" || silent < afterMs) return { pid: worker.proc.pid };
  return { pid: worker.proc.pid, blockedForMs: silent, blockedBy: stepsRunningIn(worker) };
}

/** How many pooled workers a body of code may have now: its size, plus a spare per blocked worker up to the bound. */
export function roomFor(live: readonly PoolWorker[], size: number, spares: SpareSettings, now: number): number {
  let blocked = 0;
  for (const worker of live) if (isBlocked(worker, now, spares.afterMs)) blocked++;
  return size + Math.min(spares.workers, blocked);
}

/**
 * The activations a blocked worker can give back: the ones it never read. A worker acks each
 * activation as it reads it, before any of its code runs (`started`), so one it has said nothing
 * about is still in its channel, unread behind the blocker: moving it runs its code nowhere twice.
 * What it did read stays, however silent — code that loops before its first op is read and says
 * nothing else, and a copy elsewhere would run beside it; when several runs' read work is there,
 * the worker is evacuated instead (evacuation.ts). Should the worker wake up, it is told to abort
 * what was taken back first, and the fence refuses what it still reports (see docs/decisions.md).
 */
export function takeBackFrom(worker: PoolWorker): Held[] {
  return [...worker.held.values()].filter((h) => owed(h) && !h.heard && h.steps.size === 0);
}

/** Names blocked workers for a log line: `pid (run step, …)`. */
export const describeBlocked = (workers: readonly PoolWorker[]): string =>
  workers.map((w) => `${w.proc.pid} (${stepsRunningIn(w).map((s) => (s.step === undefined ? `${s.runId} outside a step` : `${s.runId} step "${s.step}"`)).join(", ") || "no activation read"})`).join("; ");
