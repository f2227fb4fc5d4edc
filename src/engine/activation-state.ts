/**
 * The state one activation carries while user code runs: whether it suspended, failed fatally or
 * lost its lease, plus the ops still in flight. Once any flag is set every later durable call
 * unwinds at once, so code that swallowed a suspension cannot make progress or complete the run.
 */
import { errorCodeOf, toFailureBody, type ActivationResult, type FailureBody, type OpCommand, type OpResolution } from "../shared/index.ts";
import type { ActivationHost } from "./host.ts";
import { Suspension } from "./suspension.ts";

export interface ActivationState {
  readonly suspended: boolean;
  readonly aborted: boolean;
  readonly fatal: FailureBody | null;
  /** Set when a service turn ended itself (defer, reject). */
  readonly turnEnd: ActivationResult | null;
  endTurn(result: ActivationResult): never;
  /** Throws if the activation can no longer make progress. */
  guard(): void;
  /** Throws only if the activation lost its lease (or failed fatally): it may still record. */
  guardLease(): void;
  suspend(reason: string): never;
  /** Ends the activation with a failure of the run that user code cannot catch (nondeterminism). */
  failRun(error: FailureBody): never;
  report(cmd: OpCommand): Promise<OpResolution>;
  post(cmd: OpCommand): void;
  track<T>(work: Promise<T>): Promise<T>;
  /** Waits until no op is in flight. */
  settle(): Promise<void>;
}

// Reports that fail for these reasons mean this activation no longer owns the run.
const LEASE_LOST = new Set(["stale_lease", "runtime_closed"]);

export function createActivationState(host: ActivationHost): ActivationState {
  let suspended = false;
  let aborted = false;
  let fatal: FailureBody | null = null;
  let turnEnd: ActivationResult | null = null;
  const inflight = new Set<Promise<unknown>>();

  const stop = (reason: string): never => {
    throw new Suspension(reason);
  };

  const state: ActivationState = {
    get suspended() {
      return suspended;
    },
    get aborted() {
      return aborted;
    },
    get fatal() {
      return fatal;
    },
    get turnEnd() {
      return turnEnd;
    },
    endTurn(result) {
      turnEnd ??= result;
      return stop(`turn ended (${result.type})`);
    },
    guard() {
      if (aborted || host.signal.aborted) {
        aborted = true;
        stop("lease lost");
      }
      if (fatal) stop("run failed");
      if (suspended || turnEnd) stop("already suspended");
    },
    guardLease() {
      if (aborted || host.signal.aborted) {
        aborted = true;
        stop("lease lost");
      }
      if (fatal) stop("run failed");
    },
    suspend(reason) {
      suspended = true;
      return stop(reason);
    },
    failRun(error) {
      fatal ??= error;
      return stop("run failed");
    },
    async report(cmd) {
      try {
        return await host.report(cmd);
      } catch (error) {
        if (LEASE_LOST.has(errorCodeOf(error) ?? "")) aborted = true;
        else fatal ??= { ...toFailureBody(error), retryable: false };
        return stop("report refused");
      }
    },
    post(cmd) {
      host.post(cmd);
    },
    track(work) {
      inflight.add(work);
      const remove = () => void inflight.delete(work);
      work.then(remove, remove);
      return work;
    },
    async settle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
  return state;
}
