/**
 * The kernel's side of sharing a database with other daemons (PostgreSQL): what membership hears
 * from the others becomes local effects here — change-feed entries, waiters told, activations
 * stopped, recovery batches for takeovers and for this daemon's own lost membership. On a store of
 * one daemon there is nothing to wire.
 */
import type { Logger } from "../shared/index.ts";
import type { Cluster, MessageRow, RunRow, StoreOps } from "../store/index.ts";
import type { ChangeFeed } from "./change-feed.ts";
import type { KernelContext } from "./context.ts";
import type { Executor } from "./executor.ts";
import type { Command } from "./group-commit.ts";
import { MESSAGE_DONE_STATUSES } from "./inbox.ts";
import { relinquish } from "./lost-activations.ts";
import { createMembership, type Membership } from "./membership.ts";
import { recover, recoverAfterFailedCommit } from "./run-lifecycle.ts";
import { isTerminal } from "./types.ts";
import type { Waiters } from "./waiters.ts";

export interface ClusterWiring {
  cluster: Cluster;
  ctx: KernelContext;
  reads: StoreOps;
  executor(): Executor | null;
  logger: Logger | undefined;
  leaseTtlMs: number;
  feed: ChangeFeed;
  runWaiters: Waiters<string, RunRow>;
  messageWaiters: Waiters<number, MessageRow>;
  /** The kernel's commit queue (called only once the kernel is built). */
  submit<T>(command: Command<T>): Promise<T>;
  /** Arms the wake-up timer for the earliest timer in the database. */
  armNext(): Promise<void>;
}

export function wireCluster(wiring: ClusterWiring): Membership {
  const { ctx, reads, executor, feed, runWaiters, messageWaiters, submit, leaseTtlMs } = wiring;
  const log = wiring.logger?.withTag("kernel");

  /** Result waiters whose notice may never have come: each looks at the database once more. */
  async function lookAgainForWaiters(): Promise<void> {
    await Promise.all(runWaiters.keys().map((runId) => endedElsewhere(runId)));
    await Promise.all(messageWaiters.keys().map((messageId) => messageDoneElsewhere(messageId)));
  }

  /** Another daemon ended the run: its waiters here hear, and an activation of it here stops. */
  async function endedElsewhere(runId: string): Promise<void> {
    const holds = executor()?.holds(runId) ?? false;
    if (!holds && !runWaiters.has(runId)) return void executor()?.runEnded(runId);
    const run = await reads.getRun(runId);
    if (!run || !isTerminal(run.status)) return;
    if (holds) executor()?.abort(runId);
    ctx.notifyTerminal(run);
  }

  /** Another daemon undid the run's lease (a cancelled turn): an activation here under an older lease stops. */
  async function abortedElsewhere(runId: string): Promise<void> {
    if (!(executor()?.holds(runId) ?? false)) return;
    const run = await reads.getRun(runId);
    // No activation under an older lease can report any more: stopping it changes nothing but the code.
    if (run) executor()?.abort(runId, run.leaseFence - 1);
  }

  async function messageDoneElsewhere(messageId: number): Promise<void> {
    if (!messageWaiters.has(messageId)) return;
    const message = await reads.getMessage(messageId);
    if (message && MESSAGE_DONE_STATUSES.includes(message.status)) ctx.notifyMessage(message);
  }

  const membership: Membership = createMembership({
    cluster: wiring.cluster,
    reads,
    executor,
    logger: wiring.logger,
    leaseTtlMs,
    touched(runIds) {
      for (const runId of runIds) feed.touched(runId);
      feed.committed();
    },
    ended: (runId) => endedElsewhere(runId),
    aborted: (runId) => abortedElsewhere(runId),
    messageDone: (messageId) => messageDoneElsewhere(messageId),
    async takeOver(dead) {
      const pending = await submit((tx) => recover(ctx, tx, dead, leaseTtlMs));
      for (const run of pending) executor()?.dispatch(run);
      await wiring.armNext();
      // A daemon that died right after a commit told nobody what it ended: look again.
      await lookAgainForWaiters();
    },
    resync: () => lookAgainForWaiters(),
    async idleLeases(leases) {
      // Submitted together: one batch for all of them.
      await Promise.all(leases.map(({ id, fence }) => submit((tx) => relinquish(ctx, tx, id, fence, "leased by this daemon with nothing running it"))));
      membership.claimPending();
    },
    // Whatever it leased meanwhile goes again too, under new fences: aborting code alone would
    // leave those runs leased to a live member with nothing running them.
    lostMembership: () =>
      void submit((tx) => recoverAfterFailedCommit(ctx, tx, "this daemon was counted dead by the others; the run goes again"))
        .then(() => membership.claimPending())
        .catch((error: unknown) => log?.error("could not put this daemon's runs right after it was counted dead:", error)),
  });
  return membership;
}
