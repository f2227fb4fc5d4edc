/**
 * Service instances and their inboxes: create-or-get an instance, enqueue mail (bounded, refused
 * once stopped, every refusal recorded), route a finished message's reply or error back to whoever
 * asked, and stop an instance.
 */
import { isService, serviceInstanceId, VilanoError, type FailureBody, type LiveOutcome } from "../shared/index.ts";
import { prefixEnd, type MessageRow, type RunRow } from "../store/index.ts";
import { appendEvent, leasedElsewhere, requireRun, type KernelContext } from "./context.ts";
import { makeReady, wakeRun } from "./ready.ts";
import { runEnded } from "./run-ends.ts";
import { cancelChildren } from "./run-lifecycle.ts";
import { cancelServingTurn } from "./turns.ts";
import type { Tx } from "./group-commit.ts";
import { MESSAGE_STATUS, OP_STATUS, SERVICE_STATUS } from "./types.ts";

export const instanceId = serviceInstanceId;

export interface ConnectRequest {
  /** The project the instance belongs to ("" in an embedded runtime). */
  project: string;
  /** The snapshot a new instance is pinned to. */
  snapshotId: string | null;
  service: string;
  key: string;
  keyInput: string | null;
  mustExist: boolean;
}

export async function connectInstance(k: KernelContext, tx: Tx, req: ConnectRequest): Promise<{ run: RunRow; created: boolean }> {
  const id = instanceId(req.project, req.service, req.key);
  const existing = await k.store.getRun(id);
  if (existing) return { run: existing, created: false };
  if (req.mustExist) {
    throw new VilanoError("not_found", `service "${req.service}" has no instance with key ${JSON.stringify(req.key)}`, {
      details: { service: req.service, key: req.key },
    });
  }
  await k.store.insertInstance({
    id,
    project: req.project,
    snapshotId: req.snapshotId,
    name: req.service,
    serviceKey: req.key,
    keyInput: req.keyInput,
    status: SERVICE_STATUS.idle,
    now: tx.now,
  });
  await appendEvent(k, tx, id, "instance_created", { service: req.service, key: req.key });
  return { run: (await k.store.getRun(id))!, created: true };
}

export interface EnqueueRequest {
  serviceRunId: string;
  kind: "send" | "ask" | "signal";
  handler: string;
  payload: string | null;
  sender: { runId: string; opKey: string } | null;
  maxQueued: number | null;
}

export type EnqueueResult = { ok: true; messageId: number } | { ok: false; error: FailureBody };

/** A failure the kernel makes; its reason (`error.cause.reason` in the caller) is its code. */
export function kernelFailure(code: string, message: string, details?: unknown): FailureBody {
  const body: FailureBody = { name: "ServiceError", message, code, reason: code, family: "application", retryable: false };
  if (details !== undefined) body.details = details;
  return body;
}

/** Enqueues a message; a refusal is a result (not a throw) so that its record commits. */
export async function enqueueMessage(k: KernelContext, tx: Tx, req: EnqueueRequest): Promise<EnqueueResult> {
  const run = await requireRun(k, req.serviceRunId);
  if (!isService(run)) {
    throw new VilanoError("validation_failed", `run ${run.id} is a ${run.kind}, not a service instance`);
  }
  const refuse = async (code: string, message: string): Promise<EnqueueResult> => {
    await appendEvent(k, tx, run.id, "message_rejected", { kind: req.kind, name: req.handler, reason: code, ...(req.sender ? { from: req.sender.runId } : {}) });
    return { ok: false, error: kernelFailure(code, message, { serviceRunId: run.id, handler: req.handler }) };
  };
  if (run.status === SERVICE_STATUS.stopped) {
    return refuse("service_stopped", `service instance ${run.id} is stopped; ${req.kind} "${req.handler}" was rejected`);
  }
  if (req.maxQueued !== null && (await k.store.inboxCounts(run.id)).total >= req.maxQueued) {
    return refuse("service_overloaded", `service instance ${run.id} has ${req.maxQueued} queued messages (its limit); ${req.kind} "${req.handler}" was rejected`);
  }
  const messageId = await k.store.insertMessage({
    serviceRunId: run.id,
    kind: req.kind,
    name: req.handler,
    payload: req.payload,
    senderRunId: req.sender?.runId ?? null,
    senderOpKey: req.sender?.opKey ?? null,
    now: tx.now,
  });
  await appendEvent(k, tx, run.id, "message_enqueued", { messageId, kind: req.kind, name: req.handler, ...(req.sender ? { from: req.sender.runId } : {}) });
  // The row read above is still the run's: a message and an event were written, not the run.
  if (run.status === SERVICE_STATUS.idle) await makeReady(k, tx, run, true);
  return { ok: true, messageId };
}

/** Marks a message finished and hands its outcome to the asking run's op, or to an external waiter. */
export async function finishMessage(
  k: KernelContext,
  tx: Tx,
  message: MessageRow,
  outcome: { status: "done"; reply: string | null } | { status: "failed" | "cancelled"; error: FailureBody },
): Promise<void> {
  const error = outcome.status === "done" ? null : JSON.stringify(outcome.error);
  const reply = outcome.status === "done" ? outcome.reply : null;
  await k.store.updateMessage(message.id, { status: outcome.status, reply, error }, tx.now);
  if (message.kind !== "ask") return;
  if (message.senderRunId && message.senderOpKey) {
    const op = await k.store.getOp(message.senderRunId, message.senderOpKey);
    if (op && op.status === OP_STATUS.waiting) {
      await k.store.putOp({
        ...op,
        status: outcome.status === "done" ? OP_STATUS.completed : OP_STATUS.failed,
        result: reply,
        error,
        wakeAt: null,
        now: tx.now,
        unseen: await leasedElsewhere(k, message.senderRunId),
      });
      await appendEvent(k, tx, message.senderRunId, "ask_replied", { opKey: op.opKey, messageId: message.id, outcome: outcome.status });
      await wakeRun(k, tx, message.senderRunId);
      const senderRunId = message.senderRunId;
      const live: LiveOutcome = outcome.status === "done" ? { status: "completed", result: reply } : { status: "failed", error: outcome.error };
      tx.after(() => k.deliverLive(senderRunId, op.opKey, live));
    }
    return;
  }
  const finished = (await k.store.getMessage(message.id))!;
  k.tell.messageDone(message.id);
  tx.after(() => k.notifyMessage(finished));
}

/**
 * Stops an instance: its backlog fails with `service_stopped`, its waits are cancelled, mail it sent
 * that was not handled yet is cancelled, and new mail is refused from now on.
 */
export async function stopInstance(k: KernelContext, tx: Tx, runId: string, reason: string): Promise<RunRow> {
  const run = await requireRun(k, runId);
  if (!isService(run)) throw new VilanoError("validation_failed", `run ${runId} is a ${run.kind}, not a service instance`);
  if (run.status === SERVICE_STATUS.stopped) return run;
  // Stopped first, so nothing below can wake it again.
  await k.store.setRunStatus(runId, SERVICE_STATUS.stopped, tx.now);
  await k.store.bumpFence(runId, tx.now);
  const stopped = kernelFailure("service_stopped", `service instance ${runId} was stopped (${reason})`, { serviceRunId: runId });
  for (const message of await k.store.openMessages(runId)) await finishMessage(k, tx, message, { status: "failed", error: stopped });
  await cancelOutbound(k, tx, runId, "stopped");
  await k.store.closeOpenOps(runId, OP_STATUS.cancelled, tx.now);
  await appendEvent(k, tx, runId, "instance_stopped", { reason });
  if (run.status === SERVICE_STATUS.active) tx.after(() => k.abortActivation(runId));
  await cancelChildren(k, tx, runId, "stopped");
  const finished = (await k.store.getRun(runId))!;
  await runEnded(k, tx, finished);
  k.tell.ended(runId);
  tx.after(() => k.notifyTerminal(finished));
  return finished;
}

export const MESSAGE_DONE_STATUSES: readonly string[] = [MESSAGE_STATUS.done, MESSAGE_STATUS.failed, MESSAGE_STATUS.cancelled];

/**
 * The asks a finished run (or, with `scope`, a finished turn) made and nobody will wait for now:
 * one no turn has picked up yet is withdrawn, and the turn serving one is cancelled with it
 * (`cancelServingTurn`). Its sends stand: they are fire-and-forget.
 */
export async function cancelOutbound(k: KernelContext, tx: Tx, senderRunId: string, why: string, scope?: string): Promise<void> {
  const asks = scope === undefined ? await k.store.openOutbound(senderRunId) : await k.store.openOutboundWithPrefix(senderRunId, scope, prefixEnd(scope));
  for (const listed of asks) {
    // Read again: cancelling one ask of the list may have settled another (a chain that comes back).
    const message = await k.store.getMessage(listed.id);
    if (!message || MESSAGE_DONE_STATUSES.includes(message.status)) continue;
    const error = kernelFailure("cancelled", `the sender ${senderRunId} was ${why}`);
    if (message.status === MESSAGE_STATUS.active) {
      await cancelServingTurn(k, tx, message, error);
      continue;
    }
    await finishMessage(k, tx, message, { status: "cancelled", error });
    await appendEvent(k, tx, message.serviceRunId, "message_cancelled", { messageId: message.id, reason: `sender ${why}` });
  }
}
