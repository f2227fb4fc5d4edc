/**
 * Run lifecycle commands: start (idempotent by id), lease an activation, finish an activation,
 * cancel, and crash recovery at start-up.
 */
import { isService, newRunId, VilanoError, type FailureBody } from "../shared/index.ts";
import { resultWithinLimit } from "../shared/value-limit.ts";
import type { DeadMember, RunRow } from "../store/index.ts";
import { appendEvent, requireLease, requireRun, type KernelContext } from "./context.ts";
import { cancelOutbound } from "./inbox.ts";
import { finishTurn } from "./turns.ts";
import { runEnded } from "./run-ends.ts";
import { leaseRun, makeReady } from "./ready.ts";
import type { Tx } from "./group-commit.ts";
import {
  isTerminal,
  OP_STATUS,
  RUN_STATUS,
  type Activation,
  type ActivationResult,
  type StartRunRequest,
  type StartRunResult,
} from "./types.ts";

export async function startRun(k: KernelContext, tx: Tx, req: StartRunRequest): Promise<StartRunResult> {
  const kind = req.kind ?? "workflow";
  if (req.id !== undefined) {
    const existing = await k.store.getRun(req.id);
    if (existing) {
      if (existing.kind !== kind || existing.name !== req.name || existing.project !== (req.project ?? "")) {
        throw new VilanoError(
          "conflict",
          `run id ${JSON.stringify(req.id)} is already used by ${existing.kind} "${existing.name}", not ${kind} "${req.name}"`,
          { details: { runId: req.id, existingName: existing.name, requestedName: req.name } },
        );
      }
      return { run: existing, created: false };
    }
  }
  const id = req.id ?? newRunId(tx.now);
  await k.store.insertRun({
    id,
    kind,
    name: req.name,
    status: RUN_STATUS.pending,
    input: req.input,
    parentId: req.parentId ?? null,
    project: req.project ?? "",
    snapshotId: req.snapshotId ?? null,
    now: tx.now,
  });
  await appendEvent(k, tx, id, "run_started", { name: req.name, ...(req.id !== undefined ? { requestedId: true } : {}) });
  await makeReady(k, tx, (await k.store.getRun(id))!);
  return { run: (await k.store.getRun(id))!, created: true };
}

/**
 * Leases a pending run to an activation; null when the run is not pending (taken or finished), or
 * when another daemon sharing the database has claimed it.
 */
export async function activate(k: KernelContext, tx: Tx, runId: string): Promise<Activation | null> {
  const run = await k.store.getRun(runId);
  if (!run || run.status !== RUN_STATUS.pending) return null;
  if (run.owner && run.owner !== k.store.cluster?.daemonId) return null;
  return await leaseRun(k, tx, runId);
}

export async function finishActivation(k: KernelContext, tx: Tx, runId: string, fence: number, reported: ActivationResult): Promise<void> {
  const run = await requireLease(k, runId, fence);
  const result = resultWithinLimit(reported, k.maxValueBytes, run);
  // The code got through an activation: earlier worker crashes were not in a row with a later one.
  if (run.crashes > 0 && result.type !== "aborted") await k.store.setCrashes(runId, 0);
  if (isService(run)) return await finishTurn(k, tx, run, result);
  switch (result.type) {
    case "completed":
      await k.store.finishRun(runId, RUN_STATUS.completed, result.output, null, tx.now);
      // Waits the code abandoned (the loser of a Promise.race) close with the run.
      await k.store.closeOpenOps(runId, OP_STATUS.cancelled, tx.now);
      await cancelOutbound(k, tx, runId, "completed");
      await appendEvent(k, tx, runId, "run_completed");
      await notify(k, tx, runId);
      return;
    case "failed":
      await k.store.finishRun(runId, RUN_STATUS.failed, null, JSON.stringify(result.error), tx.now);
      await k.store.closeOpenOps(runId, OP_STATUS.cancelled, tx.now);
      await cancelOutbound(k, tx, runId, "failed");
      await appendEvent(k, tx, runId, "run_failed", { error: result.error });
      await notify(k, tx, runId);
      return;
    case "suspended":
      if (await k.store.getWakePending(runId)) {
        // Something it waits for happened while it ran: go straight round again.
        await k.store.setWakePending(runId, false);
        await makeReady(k, tx, run);
      } else {
        await k.store.setRunStatus(runId, RUN_STATUS.waiting, tx.now);
        await appendEvent(k, tx, runId, "run_waiting");
      }
      return;
    case "aborted":
      return;
    default:
      throw new VilanoError("internal", `workflow run ${runId} reported a service turn result (${result.type})`);
  }
}

export const CANCELLED_BODY: FailureBody = {
  name: "CancelledError",
  message: "the run was cancelled",
  code: "cancelled",
  reason: "cancelled",
  family: "application",
  retryable: false,
};

/** Cancels a run; `cause` adds to the error it ends with (a linked exit's reason and details). */
export async function cancelRun(k: KernelContext, tx: Tx, runId: string, reason?: string, cause?: Partial<FailureBody>): Promise<RunRow> {
  const run = await requireRun(k, runId);
  if (run.status === RUN_STATUS.cancelled) return run;
  if (isTerminal(run.status)) {
    throw new VilanoError("run_finished", `run ${runId} has already ${run.status}; there is nothing to cancel`, {
      details: { runId, status: run.status },
    });
  }
  const body: FailureBody = { ...CANCELLED_BODY, ...(reason ? { message: `the run was cancelled: ${reason}` } : {}), ...cause };
  if (isService(run)) {
    throw new VilanoError("validation_failed", `run ${runId} is a service instance; stop it instead of cancelling it`);
  }
  await k.store.finishRun(runId, RUN_STATUS.cancelled, null, JSON.stringify(body), tx.now);
  // A new fence makes every later report of a running activation stale.
  await k.store.bumpFence(runId, tx.now);
  await k.store.closeOpenOps(runId, OP_STATUS.cancelled, tx.now);
  await cancelOutbound(k, tx, runId, "cancelled");
  await appendEvent(k, tx, runId, "run_cancelled", reason ? { reason } : undefined);
  if (run.status === RUN_STATUS.running) tx.after(() => k.abortActivation(runId));
  await notify(k, tx, runId);
  await cancelChildren(k, tx, runId, "cancelled");
  return (await k.store.getRun(runId))!;
}

/**
 * The kernel fails a workflow run for a reason of its own (its supervision budget ran out): like a
 * cancellation, its waits close, its activation stops and its children are cancelled.
 */
export async function failRunByKernel(k: KernelContext, tx: Tx, runId: string, body: FailureBody): Promise<void> {
  const run = await requireRun(k, runId);
  if (isTerminal(run.status)) return;
  await k.store.finishRun(runId, RUN_STATUS.failed, null, JSON.stringify(body), tx.now);
  await k.store.bumpFence(runId, tx.now);
  await k.store.closeOpenOps(runId, OP_STATUS.cancelled, tx.now);
  await cancelOutbound(k, tx, runId, "failed");
  await appendEvent(k, tx, runId, "run_failed", { error: body });
  if (run.status === RUN_STATUS.running) tx.after(() => k.abortActivation(runId));
  await notify(k, tx, runId);
  await cancelChildren(k, tx, runId, "failed");
}

/** Cancelling a run (or stopping an instance) cancels the children it started, and theirs, in the same transaction. */
export async function cancelChildren(k: KernelContext, tx: Tx, parentId: string, how: string): Promise<void> {
  for (const child of await k.store.listChildren(parentId)) {
    if (isTerminal(child.status) || isService(child)) continue;
    await appendEvent(k, tx, child.id, "cancelled_with_parent", { parentId });
    await cancelRun(k, tx, child.id, `its parent ${parentId} was ${how}`);
  }
}

/**
 * After a batch failed to commit (full disk, I/O error): activations may have lost reports and
 * leases may have been refused, so every run an activation holds goes again under a new fence (its
 * code is stopped), and every pending run is dispatched again — the same as recovery at start-up,
 * without a restart.
 */
export async function recoverAfterFailedCommit(k: KernelContext, tx: Tx, why = "a commit failed; the run goes again"): Promise<RunRow[]> {
  // With several daemons, only this one's leases: the others' activations lost nothing.
  const held = k.store.cluster ? await k.store.cluster.ownLeases() : await k.store.listRunIdsWithStatus([RUN_STATUS.running, "active"]);
  for (const runId of held) {
    await k.store.setRunStatus(runId, RUN_STATUS.pending, tx.now);
    // Only the activations holding the lease undone here stop: one of a lease taken later in this
    // very batch (the run went pending, and was leased again at once) goes on.
    const undone = (await k.store.bumpFence(runId, tx.now)) - 1;
    await appendEvent(k, tx, runId, "run_recovered", { why });
    tx.after(() => k.abortActivation(runId, undone));
  }
  if (held.length > 0) k.tell.pending();
  // With several daemons the pending runs are claimed (kernel.ts), not all dispatched here.
  return k.store.cluster ? [] : pendingRuns(k);
}

/** Every pending run, to be dispatched again. */
async function pendingRuns(k: KernelContext): Promise<RunRow[]> {
  const runs: RunRow[] = [];
  for (const id of await k.store.listRunIdsWithStatus([RUN_STATUS.pending])) runs.push((await k.store.getRun(id))!);
  return runs;
}

/**
 * At start-up: activations that were running when the process died are lost; run them again. On
 * SQLite that is every workflow left running and every service turn left active. With several
 * daemons sharing the database (`deadMembers`: those counted dead), it is the runs leased by no
 * live daemon; the other daemons' runs go on where they run.
 */
export async function recover(k: KernelContext, tx: Tx, deadMembers: readonly DeadMember[] = [], leaseTtlMs = 0): Promise<RunRow[]> {
  const { cluster } = k.store;
  const orphaned = cluster ? await cluster.removeMembers(deadMembers, leaseTtlMs) : await k.store.listRunIdsWithStatus([RUN_STATUS.running, "active"]);
  for (const runId of orphaned) {
    await k.store.setRunStatus(runId, RUN_STATUS.pending, tx.now);
    await k.store.bumpFence(runId, tx.now);
    await appendEvent(k, tx, runId, "run_recovered", deadMembers.length > 0 ? { why: `taken over from ${deadMembers.map((d) => d.id).join(", ")}` } : undefined);
  }
  if (orphaned.length > 0) k.tell.pending();
  // Pending runs are claimed when there are several daemons (kernel.ts), not all dispatched here.
  return cluster ? [] : pendingRuns(k);
}

/** The run has ended: ops waiting on it settle, and result waiters hear after commit. */
async function notify(k: KernelContext, tx: Tx, runId: string): Promise<void> {
  const finished = (await k.store.getRun(runId))!;
  await runEnded(k, tx, finished);
  k.tell.ended(runId);
  tx.after(() => k.notifyTerminal(finished));
}
