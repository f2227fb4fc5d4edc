/**
 * Workers blocked by code that does not yield (a step in a loop with no timeout): such a worker
 * says nothing — a worker holding work heartbeats every second — and takes no new work, so when
 * every worker of a body of code is blocked the pool starts spare workers, up to the project's
 * bound (`[worker] spare_workers`), and retires them once they are not needed. Activations sent to
 * a worker just before it was seen blocked, which it never started, are taken back and go to
 * another worker. Nothing here kills a blocked worker: a step without a timeout may run as long as
 * it likes, alone on its worker; a cancel ends it. One in which several runs' work had started is
 * evacuated (evacuation.ts).
 */
import type { WorkerPlace } from "../shared/index.ts";
import type { Held, PoolWorker } from "./pool-worker.ts";

export interface SpareSettings {
  /** Workers beyond the pool's size while others are blocked. */
  workers: number;
  /** Silence of a worker holding work after which it counts as blocked. */
  afterMs: number;
}

/**
 * How long a worker holding work has said nothing, counted at the earliest from when it was sent
 * its oldest activation (a worker that was idle and quiet only starts owing heartbeats then).
 */
export function silentFor(worker: PoolWorker, now: number): number {
  const oldest = worker.held.values().next().value;
  if (oldest === undefined) return 0;
  return now - Math.max(worker.proc.lastHeard, oldest.sentAt);
}

export const isBlocked = (worker: PoolWorker, now: number, afterMs: number): boolean => worker.state === "live" && silentFor(worker, now) >= afterMs;

/** The steps running in a worker: when it is blocked, the blocker is among them. */
export function stepsRunningIn(worker: PoolWorker): NonNullable<WorkerPlace["blockedBy"]> {
  const steps: NonNullable<WorkerPlace["blockedBy"]> = [];
  for (const held of worker.held.values()) for (const step of held.steps.values()) steps.push({ runId: held.runId, step: step.name, opKey: step.opKey });
  return steps;
}

/** Where an activation is: its worker's pid and, when that worker is blocked, for how long and by what. */
export function placeOf(worker: PoolWorker, now: number, afterMs: number): WorkerPlace {
  const silent = silentFor(worker, now);
  if (worker.state !== "live" || silent < afterMs) return { pid: worker.proc.pid };
  return { pid: worker.proc.pid, blockedForMs: silent, blockedBy: stepsRunningIn(worker) };
}

/** How many pooled workers a body of code may have now: its size, plus a spare per blocked worker up to the bound. */
export function roomFor(live: readonly PoolWorker[], size: number, spares: SpareSettings, now: number): number {
  let blocked = 0;
  for (const worker of live) if (isBlocked(worker, now, spares.afterMs)) blocked++;
  return size + Math.min(spares.workers, blocked);
}

/**
 * The activations a blocked worker can give back: the ones it has said nothing about since they
 * were sent (no step announced, no op reported), sent to it just before it went silent. Its event
 * loop is blocked, so it most likely never read them; the one blocking it is the activation whose
 * step (or code) runs there, which stays. When every activation it holds is unheard, the blocker is
 * one of them (code that loops before its first op): the oldest stays, since the worker reads its
 * activations in the order they were sent. Moving an activation it did read could run its code
 * twice at once if the worker wakes up; the fence refuses what the old one reports, and the pool
 * tells it to abort first (see docs/decisions.md).
 */
export function takeBackFrom(worker: PoolWorker): Held[] {
  const held = [...worker.held.values()].filter((h) => !h.ended && !h.takenBack);
  const unheard = held.filter((h) => !h.heard && h.steps.size === 0);
  return unheard.length === held.length ? unheard.slice(1) : unheard;
}

/** Names blocked workers for a log line: `pid (run step, …)`. */
export const describeBlocked = (workers: readonly PoolWorker[]): string =>
  workers.map((w) => `${w.proc.pid} (${stepsRunningIn(w).map((s) => `${s.runId} step "${s.step}"`).join(", ") || "no step announced"})`).join("; ");
