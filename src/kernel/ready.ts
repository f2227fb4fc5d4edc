/**
 * Making runs ready: a wake-up for a run that waits, and the lease-in-the-same-transaction path
 * that hands a ready run straight to the executor when it has room.
 */
import type { RunRow } from "../store/index.ts";
import { appendEvent, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { activateTurn } from "./turns.ts";
import { isService } from "../shared/index.ts";
import { isLeased, isTerminal, RUN_STATUS, type Activation } from "./types.ts";

/**
 * Something the run waits for has happened (timer fired, signal arrived, a child ended). A waiting
 * run becomes ready at the end of the batch — once, however many of its waits the batch settles,
 * so the activation leased then sees them all; a running one is flagged so that its suspension
 * re-dispatches it instead of parking it (its activation loaded history before this change).
 */
export async function wakeRun(k: KernelContext, tx: Tx, runId: string): Promise<void> {
  const run = await k.store.getRun(runId);
  if (!run || isTerminal(run.status)) return;
  if (run.status === RUN_STATUS.waiting) {
    tx.atEnd(`wake:${runId}`, async (end) => {
      const still = await k.store.getRun(runId);
      // Cancelled, or woken some other way, since.
      if (still?.status !== RUN_STATUS.waiting) return;
      await appendEvent(k, end, runId, "run_resumed");
      await makeReady(k, end, still);
    });
  } else if (isLeased(run.status)) {
    await k.store.setWakePending(runId, true);
  }
}

/**
 * A run has work to do. When the executor has room, it is leased right here, in the transaction
 * that made it ready, and handed over after commit — saving a round through the commit queue.
 * Otherwise it becomes pending and the executor leases it later. `current`: the caller read `run` in
 * this command and nothing has written its row since, so the lease need not read it again.
 */
export async function makeReady(k: KernelContext, tx: Tx, run: RunRow, current = false): Promise<void> {
  if (k.reserve(run)) {
    // Registered before leasing, which may throw: the reserved slot must come back either way.
    let leased = false;
    tx.onRollback(() => leased && k.release(run));
    let activation: Activation | null;
    try {
      activation = await leaseRun(k, tx, run.id, current ? run : undefined);
    } catch (error) {
      k.release(run);
      throw error;
    }
    if (activation) {
      leased = true;
      const handed = activation;
      tx.after(() => k.runLeased(handed));
      return;
    }
    k.release(run);
    return;
  }
  await k.store.setRunStatus(run.id, RUN_STATUS.pending, tx.now);
  const pending = { ...run, status: RUN_STATUS.pending };
  k.tell.pending();
  tx.after(() => k.dispatch(pending));
}

/**
 * Leases a run that has work: the fence goes up and its history is loaded in this transaction.
 * `current` is the run's row when the caller holds it as it stands in this transaction.
 */
export async function leaseRun(k: KernelContext, tx: Tx, runId: string, current?: RunRow): Promise<Activation | null> {
  const run = current ?? (await k.store.getRun(runId))!;
  // Outcomes the last activation did not see come after everything it did, before history loads.
  await k.store.numberUnseenOutcomes(runId);
  if (isService(run)) return await activateTurn(k, tx, run);
  await k.store.setRunStatus(runId, RUN_STATUS.running, tx.now);
  const fence = await k.store.bumpFence(runId, tx.now);
  return { run: { ...run, status: RUN_STATUS.running, leaseFence: fence }, fence, ops: await k.store.listOps(runId) };
}
