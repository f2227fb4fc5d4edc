/**
 * Activations that end without a result because their worker process went away: killed by the
 * pool (a hard stop of a blocking step, a cancelled run whose code would not stop, a lease that
 * expired) or crashed on its own. The run goes again under a new fence, so nothing the lost
 * activation might still report can count. A crash costs the run an attempt: three in a row fail
 * it for good (a service turn: its message) with `worker_crashed`.
 */
import { isService, type FailureBody, type OpCommand } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";
import { appendEvent, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { reportOp } from "./op-journal.ts";
import { makeReady } from "./ready.ts";
import { finishActivation } from "./run-lifecycle.ts";
import { isLeased, OP_STATUS, RUN_STATUS } from "./types.ts";

export const MAX_WORKER_CRASHES = 3;

export interface WorkerCrash {
  workerPid: number;
  exitCode: number | null;
  signal: string | null;
  /** The worker's last stderr lines. */
  stderr: string[];
  /** The step whose code ended the worker, when the worker could tell. */
  opKey?: string;
}

/** The run if `fence` still holds its lease (an activation is running under it). */
async function leasedBy(k: KernelContext, runId: string, fence: number): Promise<RunRow | null> {
  const run = await k.store.getRun(runId);
  return run && isLeased(run.status) && run.leaseFence === fence ? run : null;
}

async function goAgain(k: KernelContext, tx: Tx, run: RunRow): Promise<void> {
  // A new fence first: whatever the lost activation still sends is stale from this commit on.
  const fence = await k.store.bumpFence(run.id, tx.now);
  // makeReady leases it again at once, or marks it pending for the scheduler.
  await makeReady(k, tx, { ...run, status: RUN_STATUS.pending, leaseFence: fence });
}

/** A bystander of a killed worker, or a lease that expired: run it again; no attempt is lost. */
export async function relinquish(k: KernelContext, tx: Tx, runId: string, fence: number, why: string): Promise<boolean> {
  const run = await leasedBy(k, runId, fence);
  if (!run) return false;
  await appendEvent(k, tx, runId, "activation_lost", { fence, why });
  await goAgain(k, tx, run);
  return true;
}

/**
 * A timed step blocked its worker past the deadline and the pool killed the worker: the attempt is
 * recorded as failed (family `timeout`, `forcedTermination`), with the step's retry decision, and
 * the run goes again on another worker — where it waits for the retry, or meets the failure.
 */
export async function hardStopped(k: KernelContext, tx: Tx, runId: string, fence: number, failure: OpCommand & { type: "step_failed" }): Promise<boolean> {
  if (!await leasedBy(k, runId, fence)) return false;
  const op = await k.store.getOp(runId, failure.opKey);
  // The attempt may have reported just before the kill (its outcome, or its own failure with a
  // retry scheduled): what it recorded stands, and is not recorded twice.
  const settled = op && (op.status === OP_STATUS.completed || op.status === OP_STATUS.failed || op.attempt >= failure.attempt);
  if (!settled) await reportOp(k, tx, runId, fence, failure);
  return await relinquish(k, tx, runId, fence, `hard stop of ${failure.opKey}`);
}

export function crashBody(runId: string, crash: WorkerCrash, crashes: number): FailureBody {
  const how = crash.signal ? `was killed by ${crash.signal}` : `exited with code ${crash.exitCode}`;
  const stderr = crash.stderr.length > 0 ? `; its last stderr lines: ${crash.stderr.join(" | ")}` : "";
  return {
    name: "WorkerCrashedError",
    message: `run ${runId} crashed its worker ${crashes} times in a row (the last time the worker ${how})${stderr}`,
    code: "worker_crashed",
    reason: "worker_crashed",
    family: "application",
    retryable: false,
    details: { crashes, exitCode: crash.exitCode, signal: crash.signal, stderr: crash.stderr, workerPid: crash.workerPid, ...(crash.opKey ? { opKey: crash.opKey } : {}) },
  };
}

/**
 * The worker died holding this activation and the crash is this run's (its code said it exited the
 * worker, or it was alone there; see worker/crash-blame.ts): one attempt is spent; the third in a
 * row fails it.
 */
export async function activationCrashed(k: KernelContext, tx: Tx, runId: string, fence: number, crash: WorkerCrash): Promise<{ crashes: number; failed: boolean } | null> {
  const run = await leasedBy(k, runId, fence);
  if (!run) return null;
  const crashes = run.crashes + 1;
  await appendEvent(k, tx, runId, "worker_crashed", {
    crash: crashes,
    ...(crash.opKey ? { opKey: crash.opKey } : {}),
    workerPid: crash.workerPid,
    ...(crash.signal ? { signal: crash.signal } : { exitCode: crash.exitCode }),
    ...(crash.stderr.length > 0 ? { stderr: crash.stderr } : {}),
  });
  if (crashes < MAX_WORKER_CRASHES) {
    await k.store.setCrashes(runId, crashes);
    await goAgain(k, tx, { ...run, crashes });
    return { crashes, failed: false };
  }
  const error = crashBody(runId, crash, crashes);
  // A workflow fails for good; a service turn fails its message and the instance goes on.
  await finishActivation(k, tx, runId, fence, isService(run) ? { type: "rejected", error } : { type: "failed", error });
  return { crashes, failed: true };
}
