/**
 * A runner runs leased activations: in this process (`in-process-runner.ts`) or in worker processes
 * (the pool in `worker/`). It reports each activation's ops and result to the kernel under the
 * activation's fence. Slots, queueing and aborts belong to the scheduler, not to runners.
 */
import type { Activation } from "../kernel/index.ts";
import type { LiveExecutionStats } from "../engine/index.ts";
import type { LiveOutcome, WorkerPlace } from "../shared/index.ts";

export interface Runner {
  /**
   * Runs one leased activation until it has ended (its result reported, or dropped because the
   * lease was lost). `signal` aborts when the run is cancelled or the runtime closes. Never rejects.
   */
  run(activation: Activation, signal: AbortSignal): Promise<void>;
  /** An outcome committed while the run's activation may still be live (an ask's reply). */
  deliver(runId: string, opKey: string, outcome: LiveOutcome): void;
  /** Stops taking work and releases what the runner holds (worker processes). */
  close(): Promise<void>;
  /** How parked executions fared: resumed without a replay, evicted for room, found out of date. */
  liveStats(): LiveExecutionStats;
  /** The run has ended: drop its parked execution, if one is kept. */
  forget?(runId: string): void;
  /** The worker process the run's activation is on now, and whether it is blocked (a worker pool's view). */
  placeOf?(runId: string): WorkerPlace | undefined;
}
