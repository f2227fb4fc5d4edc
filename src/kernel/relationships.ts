/**
 * Monitors and links (OTP-style). When a run ends, every owner that monitors it gets an exit event;
 * a link ends its other side too when the end was abnormal (failed or cancelled) — cancelled for a
 * workflow, stopped for a service, with reason `linked_exit` — unless that side traps exits, in
 * which case it gets an exit event. `propagate: "all"` reports a normal end as an exit event too.
 */
import { isService, type ExitEvent, type FailureBody } from "../shared/index.ts";
import type { ExitEventRow, RelationshipRow, RunRow } from "../store/index.ts";
import { appendEvent, leasedElsewhere, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { stopInstance } from "./inbox.ts";
import { wakeRun } from "./ready.ts";
import { cancelRun } from "./run-lifecycle.ts";
import { isTerminal, OP_KIND, OP_STATUS, RUN_STATUS } from "./types.ts";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

export function toExitEvent(row: ExitEventRow): ExitEvent {
  const event: ExitEvent = {
    targetId: row.targetId,
    targetKind: row.targetKind,
    relationship: row.relationship,
    status: row.status,
    at: row.at,
  };
  if (row.output !== null) event.output = parse(row.output);
  if (row.error !== null) event.error = parse(row.error) as FailureBody;
  return event;
}

/** Workflows end abnormally when they fail or are cancelled; a stopped service ended on purpose. */
export const endedAbnormally = (run: RunRow): boolean => run.status === RUN_STATUS.failed || run.status === RUN_STATUS.cancelled;

/**
 * Which runs a run may relate to: its children, its parent, and the service instances of its
 * project (the ones it can connect to). Anything else is refused with `not_related`.
 */
export function areRelated(owner: RunRow, target: RunRow): boolean {
  return target.parentId === owner.id || owner.parentId === target.id || (isService(target) && target.project === owner.project);
}

/** Called in the transaction that ends `target`. */
export async function fireRelationships(k: KernelContext, tx: Tx, target: RunRow): Promise<void> {
  for (const rel of await k.store.relationshipsTo(target.id)) await reachOwner(k, tx, target, rel);
}

/** `target` has ended: tell (or end) one owner of a relationship to it. */
export async function reachOwner(k: KernelContext, tx: Tx, target: RunRow, rel: Pick<RelationshipRow, "ownerId" | "kind" | "propagate">): Promise<void> {
  const owner = await k.store.getRun(rel.ownerId);
  if (!owner || isTerminal(owner.status)) return;
  const abnormal = endedAbnormally(target);
  if (rel.kind === "link") {
    if (!abnormal && rel.propagate !== "all") return;
    if (abnormal && owner.trapsExits === 0) return await endLinked(k, tx, owner, target);
  }
  await queueExit(k, tx, owner.id, target, rel.kind);
}

async function endLinked(k: KernelContext, tx: Tx, owner: RunRow, target: RunRow): Promise<void> {
  const why = `linked run ${target.id} ${target.status}`;
  await appendEvent(k, tx, owner.id, "linked_exit", { targetId: target.id, status: target.status });
  if (isService(owner)) {
    await stopInstance(k, tx, owner.id, `linked_exit: ${why}`);
    return;
  }
  await cancelRun(k, tx, owner.id, why, {
    name: "LinkedExitError",
    reason: "linked_exit",
    details: { targetId: target.id, targetStatus: target.status, ...(target.error ? { targetError: parse(target.error) } : {}) },
  });
}

/** Queues an exit event for `ownerId`; its oldest `nextExit` wait, if one is open, takes it at once. */
async function queueExit(k: KernelContext, tx: Tx, ownerId: string, target: RunRow, relationship: "monitor" | "link"): Promise<void> {
  const exitId = await k.store.insertExitEvent({
    ownerId,
    targetId: target.id,
    targetKind: target.kind,
    relationship,
    status: target.status,
    output: target.status === RUN_STATUS.completed ? target.output : null,
    error: target.status === RUN_STATUS.completed ? null : target.error,
    at: target.finishedAt ?? tx.now,
  });
  await appendEvent(k, tx, ownerId, "exit_received", { exitId, targetId: target.id, relationship, status: target.status });
  const waiting = await k.store.firstWaitingOp(ownerId, OP_KIND.exit_wait);
  if (!waiting) return;
  const taken = (await k.store.takeExitEvent(ownerId, waiting.opKey))!;
  const result = JSON.stringify(toExitEvent(taken));
  await k.store.putOp({ ...waiting, status: OP_STATUS.completed, result, wakeAt: null, now: tx.now, unseen: await leasedElsewhere(k, ownerId) });
  await appendEvent(k, tx, ownerId, "exit_consumed", { opKey: waiting.opKey, exitId: taken.id });
  await wakeRun(k, tx, ownerId);
  tx.after(() => k.deliverLive(ownerId, waiting.opKey, { status: "completed", result }));
}
