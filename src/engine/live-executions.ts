/**
 * Live executions: workflow code that suspended on durable waits stays parked in the process that
 * ran it, so the run's next activation there resumes it where it stopped instead of replaying it
 * from the top. SPEC §3.1 allows keeping executions between activations as long as a replay from
 * history gives the same result, so a parked execution is resumed only when the new activation's
 * history is the one it parked with plus the outcomes of the waits it is blocked on: no op it did
 * not ask for itself. Anything else (the run went on elsewhere) drops it, and the run replays.
 *
 * Bounded: past `max` parked executions the one parked longest ago is evicted (its run replays
 * when it wakes). Eviction only costs a replay; it never changes a result.
 */

import type { LiveExecutionStats } from "../shared/index.ts";

export type { LiveExecutionStats };

/** A suspended execution, kept with what a resume needs (see run-workflow.ts). */
export interface ParkedExecution<A, R> {
  /** Resumes it for activation `activation`; null when its history does not allow that. */
  resume(activation: A): Promise<R> | null;
}

export interface LiveExecutions<A, R> {
  park(runId: string, execution: ParkedExecution<A, R>): void;
  /** Takes the run's parked execution out (a resume or a replay follows either way). */
  take(runId: string): ParkedExecution<A, R> | undefined;
  /** Drops the run's parked execution if it is `execution` (its code settled on its own). */
  forget(runId: string, execution: ParkedExecution<A, R>): void;
  /** Counts a parked execution that could not be resumed. */
  countStale(): void;
  countResumed(): void;
  readonly size: number;
  /** False with a cap of 0: nothing is kept, and code runs without the machinery for it. */
  readonly enabled: boolean;
  readonly stats: Readonly<LiveExecutionStats>;
}

/** The default cap: some 15 KB each (measured), so about 30 MB a process at most. */
export const DEFAULT_LIVE_EXECUTIONS = 2_000;

export function createLiveExecutions<A, R>(cap = DEFAULT_LIVE_EXECUTIONS): LiveExecutions<A, R> {
  const max = Number.isFinite(cap) ? cap : DEFAULT_LIVE_EXECUTIONS;
  // A Map iterates in insertion order: the first key is the one parked longest ago.
  const parked = new Map<string, ParkedExecution<A, R>>();
  const stats: LiveExecutionStats = { parked: 0, resumed: 0, evicted: 0, stale: 0 };
  return {
    park(runId, execution) {
      parked.delete(runId);
      parked.set(runId, execution);
      stats.parked++;
      while (parked.size > max) {
        parked.delete(parked.keys().next().value!);
        stats.evicted++;
      }
    },
    take(runId) {
      const execution = parked.get(runId);
      parked.delete(runId);
      return execution;
    },
    forget(runId, execution) {
      if (parked.get(runId) === execution) parked.delete(runId);
    },
    countStale: () => void stats.stale++,
    countResumed: () => void stats.resumed++,
    get size() {
      return parked.size;
    },
    enabled: max > 0,
    stats,
  };
}
