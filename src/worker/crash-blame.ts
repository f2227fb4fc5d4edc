/**
 * Who pays for a worker that died on its own (a crash: `process.exit()`, a signal, out of memory).
 *
 * A worker runs several runs' activations at once, and a signal or an out-of-memory kill leaves no
 * word of whose code caused it. Charging everyone on the worker fails innocent neighbours for good
 * (three crashes in a row quarantine a run), so, as for a hard stop that cannot be attributed:
 * - the run whose code called `process.exit()` (the worker said so on stderr) is charged alone;
 * - a worker that held only one run's activation crashed alone: that run is charged;
 * - otherwise nobody is charged, and every run that was on it is a suspect: its next activation
 *   runs among fewer suspects on a worker of their own (crash-cohorts.ts), where a crash is theirs.
 */
import type { Held } from "./pool-worker.ts";

export type CrashVerdict =
  /** Charged an attempt toward quarantine. */
  | "charged"
  /** Another run's code ended the worker: this one goes again, uncharged. */
  | "bystander"
  /** Nobody could be named: goes again uncharged, next in a cohort of suspects on a worker of its own. */
  | "suspect";

/** The verdict for each run the crashed worker held; `culprit` is the run an exit marker named, if any. */
export function judgeCrash(held: Iterable<Held>, culprit: string | null): Map<string, CrashVerdict> {
  const runs = new Set<string>();
  for (const h of held) runs.add(h.runId);
  const verdicts = new Map<string, CrashVerdict>();
  for (const runId of runs) {
    if (culprit !== null) verdicts.set(runId, culprit === runId ? "charged" : "bystander");
    else verdicts.set(runId, runs.size === 1 ? "charged" : "suspect");
  }
  return verdicts;
}
