/**
 * The durable "wake whoever waits on this run": an op that waits for another run's end (a child's
 * result) is noted in `run_waiters`; when that run ends, in the same transaction, each such op gets
 * the run's output or error and its run wakes (live, when its code still runs).
 */
import type { FailureBody, LiveOutcome } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";
import { appendEvent, leasedElsewhere, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { wakeRun } from "./ready.ts";
import { fireRelationships } from "./relationships.ts";
import { memberEnded } from "./supervision.ts";
import { OP_STATUS, RUN_STATUS } from "./types.ts";

/** What a wait on `run` resolves to once it has ended. */
export function endOutcome(run: RunRow): LiveOutcome {
  if (run.status === RUN_STATUS.completed) return { status: "completed", result: run.output };
  const error: FailureBody = run.error
    ? (JSON.parse(run.error) as FailureBody)
    : { name: "RunEndedError", message: `run ${run.id} ended ${run.status}`, code: run.status, reason: run.status, family: "application", retryable: false };
  return { status: "failed", error };
}

/** Called in the transaction that moves `run` to a terminal status. */
export async function runEnded(k: KernelContext, tx: Tx, run: RunRow): Promise<void> {
  // A supervised member is restarted first: waits on its result move to the new run.
  await memberEnded(k, tx, run);
  await wakeWaiters(k, tx, run);
  await fireRelationships(k, tx, run);
}

async function wakeWaiters(k: KernelContext, tx: Tx, run: RunRow): Promise<void> {
  const waiters = await k.store.takeRunWaiters(run.id);
  if (waiters.length === 0) return;
  const outcome = endOutcome(run);
  for (const { waiterId, opKey } of waiters) {
    const op = await k.store.getOp(waiterId, opKey);
    if (!op || op.status !== OP_STATUS.waiting) continue;
    await k.store.putOp({
      ...op,
      status: outcome.status === "completed" ? OP_STATUS.completed : OP_STATUS.failed,
      result: outcome.status === "completed" ? outcome.result : null,
      error: outcome.status === "failed" ? JSON.stringify(outcome.error) : null,
      wakeAt: null,
      now: tx.now,
      unseen: await leasedElsewhere(k, waiterId),
    });
    await appendEvent(k, tx, waiterId, "child_ended", { opKey, childRunId: run.id, status: run.status });
    await wakeRun(k, tx, waiterId);
    tx.after(() => k.deliverLive(waiterId, opKey, outcome));
  }
}
