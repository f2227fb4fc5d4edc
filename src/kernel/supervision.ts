/**
 * Supervision groups (OTP-style). A member that ends abnormally (failed or cancelled) while its
 * owner lives is restarted under a new run id, in the transaction that ended it: `one_for_one`
 * restarts it alone, `one_for_all` every member, `rest_for_one` it and the members started after
 * it. Waits on a member's result move to its new run, so `result()` survives restarts. More than
 * `maxRestarts` restarts within `window` fail the owner with `supervision_exhausted`.
 */
import { isService, memberRunId, type FailureBody } from "../shared/index.ts";
import type { MemberRow, RunRow, SupervisorRow } from "../store/index.ts";
import { appendEvent, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { stopInstance } from "./inbox.ts";
import { cancelRun, failRunByKernel, startRun } from "./run-lifecycle.ts";
import { isTerminal, RUN_STATUS } from "./types.ts";

function exhaustedBody(group: SupervisorRow, member: MemberRow, run: RunRow, restarts: number): FailureBody {
  const why = run.error ? (JSON.parse(run.error) as FailureBody).message : run.status;
  return {
    name: "SupervisionExhaustedError",
    message: `supervision group ${group.groupKey} restarted its members ${restarts} time(s) within ${group.windowMs} ms (its limit); member "${member.memberKey}" (${run.id}) ended ${run.status} again: ${why}`,
    code: "supervision_exhausted",
    reason: "supervision_exhausted",
    family: "application",
    retryable: false,
    details: { groupKey: group.groupKey, memberKey: member.memberKey, runId: run.id, maxRestarts: group.maxRestarts, windowMs: group.windowMs },
  };
}

/** Called in the transaction that ends `run`, before anything waiting on it is told. */
export async function memberEnded(k: KernelContext, tx: Tx, run: RunRow): Promise<void> {
  if (run.status === RUN_STATUS.completed) return;
  const member = await k.store.memberByRun(run.id);
  if (!member) return;
  const owner = await k.store.getRun(member.ownerId);
  const group = await k.store.getSupervisor(member.ownerId, member.groupKey);
  if (!owner || isTerminal(owner.status) || !group || group.exhausted) return;

  const recent = (JSON.parse(group.restarts) as number[]).filter((at) => at > tx.now - group.windowMs);
  if (recent.length >= group.maxRestarts) {
    await k.store.updateSupervisor(owner.id, group.groupKey, JSON.stringify(recent), true);
    await appendEvent(k, tx, owner.id, "supervision_exhausted", { groupKey: group.groupKey, memberKey: member.memberKey, runId: run.id, restarts: recent.length });
    const body = exhaustedBody(group, member, run, recent.length);
    if (isService(owner)) await stopInstance(k, tx, owner.id, `supervision_exhausted: ${body.message}`);
    else await failRunByKernel(k, tx, owner.id, body);
    return;
  }
  recent.push(tx.now);
  await k.store.updateSupervisor(owner.id, group.groupKey, JSON.stringify(recent), false);
  const members = await k.store.listMembers(owner.id, group.groupKey);
  const chosen =
    group.strategy === "one_for_one" ? [member] : group.strategy === "one_for_all" ? members : members.filter((m) => m.position >= member.position);
  // A member that completed is done; only the others start again.
  const restart: typeof chosen = [];
  for (const m of chosen) if (m.runId === run.id || (await k.store.getRun(m.runId))?.status !== RUN_STATUS.completed) restart.push(m);
  await restartMembers(k, tx, owner, restart, (m) => (m.runId === run.id ? `ended ${run.status}` : `restarted with ${member.memberKey} (${group.strategy})`));
}

/**
 * Restarts members in three steps. Each member first points at its next run (waits on the old run
 * move with it), so ending an old run restarts nothing more; then the old runs still going are
 * cancelled — which may end the owner too, through a link; only if the owner still lives do the new
 * runs start. Otherwise the members keep their old (ended) runs.
 */
async function restartMembers(k: KernelContext, tx: Tx, owner: RunRow, members: MemberRow[], why: (m: MemberRow) => string): Promise<void> {
  const moves = members.map((m) => ({ member: m, next: memberRunId(owner.id, m.groupKey, m.memberKey, m.restarts + 1) }));
  for (const { member, next } of moves) {
    await k.store.setMemberRun(owner.id, member.groupKey, member.memberKey, next, member.restarts + 1);
    await k.store.moveRunWaiters(member.runId, next);
  }
  for (const { member } of moves) {
    const old = await k.store.getRun(member.runId);
    if (old && !isTerminal(old.status)) await cancelRun(k, tx, old.id, `restarted by its supervisor ${owner.id}`, { reason: "supervisor_restart" });
  }
  if (isTerminal((await k.store.getRun(owner.id))!.status)) {
    for (const { member, next } of moves) {
      await k.store.setMemberRun(owner.id, member.groupKey, member.memberKey, member.runId, member.restarts);
      await k.store.moveRunWaiters(next, member.runId);
    }
    return;
  }
  for (const { member, next } of moves) {
    await startRun(k, tx, { id: next, project: owner.project, snapshotId: owner.snapshotId, kind: "workflow", name: member.workflow, input: member.input, parentId: owner.id });
    await appendEvent(k, tx, owner.id, "member_restarted", { groupKey: member.groupKey, memberKey: member.memberKey, previousRunId: member.runId, runId: next, why: why(member) });
  }
}
