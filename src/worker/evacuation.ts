/**
 * Evacuating a blocked worker shared by several runs. A worker silent past `spare_after` is blocked:
 * its event loop is busy in code that does not yield. The activations it never read go elsewhere
 * (blocked-workers.ts), but those it read (it acks each before its code runs) — a step awaiting a sleep, a subprocess, a
 * reply — wait behind the blocker for as long as it runs, which for an untimed loop is until a
 * cancel. When the ones that started there belong to more than one run, the worker is stopped (its
 * process group and subprocesses killed, as a hard stop does): its event loop could not have moved
 * them on anyway, and steps are at-least-once, so they run again elsewhere. Nobody is charged (a
 * blocked worker cannot say whose code blocks it); the runs that had started there go on as
 * suspects, halved into cohorts each on a worker of its own (crash-cohorts.ts), so after about
 * log2(n) such stops the blocker is alone on a worker — which is then left to run, as any blocked
 * worker holding one run's activations is: it blocks only itself, and spares serve everyone else.
 */
import { owed, type Held, type PoolWorker } from "./pool-worker.ts";
import { takeBackFrom } from "./blocked-workers.ts";

/**
 * The runs to put under suspicion if this blocked worker is to be evacuated: those whose
 * activations it has read (what it never read is no suspect: it only waited there; what it
 * finished is done, its result only awaiting its commit). Null when it is to be left alone — they
 * are one run's (or none), and that run blocks only itself.
 */
export function evacuationSuspects(worker: PoolWorker): string[] | null {
  const unread = new Set<Held>(takeBackFrom(worker));
  const runs = new Set<string>();
  for (const held of worker.held.values()) if (owed(held) && !unread.has(held)) runs.add(held.runId);
  return runs.size > 1 ? [...runs] : null;
}

/** The log line of an evacuation. */
export const evacuationNotice = (pid: number, silentMs: number, suspects: readonly string[]): string =>
  `worker ${pid} blocked for ${(silentMs / 1000).toFixed(1)}s by code of runs ${suspects.join(", ")}: stopped; its runs go again, suspects on workers of their own; nobody is charged`;

/** Why an evacuated worker's activations were given back (their `activation_lost` event). */
export const evacuatedWhy = (pid: number): string =>
  `its worker ${pid} was blocked by code that does not yield while it held several runs' work; it was stopped, nobody is charged, and this run goes again`;
