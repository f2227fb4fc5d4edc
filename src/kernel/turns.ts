/**
 * Service turns: one at a time per instance. A turn is leased on the instance's current message
 * (a suspended or interrupted turn's message first, else the oldest ready one), and its result —
 * new state, reply, message completion, the asker's wake-up — commits in one command, so a reply
 * never exists without its state or the reverse.
 */
import { decideRetry, type FailureBody, type MailboxView, type TurnInput } from "../shared/index.ts";
import type { MessageRow, RunRow } from "../store/index.ts";
import { appendEvent, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { cancelOutbound, finishMessage, stopInstance } from "./inbox.ts";
import { applyTurnSubscriptions } from "./ops/pubsub.ts";
import { makeReady } from "./ready.ts";
import { MESSAGE_STATUS, OP_STATUS, SERVICE_STATUS, type Activation, type ActivationResult } from "./types.ts";

/**
 * Op keys inside a turn are scoped to its message and attempt: a suspended turn replays its own
 * ops, while a retried or deferred message starts a fresh attempt (its code runs again).
 */
export const turnScope = (messageId: number, attempt: number): string => `m${messageId}.${attempt}/`;

export async function activateTurn(k: KernelContext, tx: Tx, run: RunRow): Promise<Activation | null> {
  let message = await k.store.activeMessage(run.id);
  if (message && message.wakeAt !== null) {
    // Its retry is still backing off; the message timer will make the instance pending again.
    await k.store.setRunStatus(run.id, SERVICE_STATUS.waiting, tx.now);
    return null;
  }
  if (!message) {
    const next = await k.store.nextReadyMessage(run.id);
    if (!next) {
      await k.store.setRunStatus(run.id, SERVICE_STATUS.idle, tx.now);
      return null;
    }
    await k.store.updateMessage(next.id, { status: MESSAGE_STATUS.active }, tx.now);
    message = { ...next, status: MESSAGE_STATUS.active };
    await appendEvent(k, tx, run.id, "turn_started", { messageId: message.id, kind: message.kind, name: message.name, attempt: message.attempt });
  }
  await k.store.setRunStatus(run.id, SERVICE_STATUS.active, tx.now);
  const fence = await k.store.bumpFence(run.id, tx.now);
  const scope = turnScope(message.id, message.attempt);
  const turn: TurnInput = {
    scope,
    message: { id: message.id, kind: message.kind as TurnInput["message"]["kind"], name: message.name, payload: message.payload, attempt: message.attempt },
    state: run.state,
    keyInput: run.keyInput,
    mailbox: await mailboxView(k, run.id, message),
  };
  return {
    run: { ...run, status: SERVICE_STATUS.active, leaseFence: fence },
    fence,
    ops: await k.store.listOpsWithPrefix(run.id, scope),
    turn,
  };
}

async function mailboxView(k: KernelContext, runId: string, current: MessageRow): Promise<MailboxView> {
  const c = await k.store.inboxCounts(runId);
  const queued: MailboxView["queued"] = {
    total: c.total,
    ready: c.ready,
    deferred: c.deferred,
    asks: c.asks,
    sends: c.sends,
    signals: c.signals,
  };
  if (c.oldestAt !== null) queued.oldestAt = c.oldestAt;
  if (c.nextWakeAt !== null) queued.nextWakeAt = c.nextWakeAt;
  return {
    current: { id: current.id, kind: current.kind as MailboxView["current"]["kind"], name: current.name, attempt: current.attempt, enqueuedAt: current.createdAt },
    queued,
  };
}

export async function finishTurn(k: KernelContext, tx: Tx, run: RunRow, result: ActivationResult): Promise<void> {
  const message = await k.store.activeMessage(run.id);
  if (!message) {
    // The lease stands but its message was settled meanwhile: the instance must not stay leased
    // with nothing to serve, or no mail would ever wake it again.
    if (result.type !== "aborted") await goOn(k, tx, run);
    return;
  }
  const base = { messageId: message.id, kind: message.kind, name: message.name, attempt: message.attempt };
  // Unless the turn only paused, its attempt is over: waits it abandoned must not catch later signals.
  if (result.type !== "suspended" && result.type !== "aborted") {
    const scope = turnScope(message.id, message.attempt);
    await k.store.closeOpenOpsWithPrefix(run.id, scope, OP_STATUS.cancelled, tx.now);
    await cancelOutbound(k, tx, run.id, "done with that turn", scope);
  }
  switch (result.type) {
    case "aborted":
      return;
    case "suspended":
      if (await k.store.getWakePending(run.id)) {
        await k.store.setWakePending(run.id, false);
        await becomePending(k, tx, run);
      } else {
        await k.store.setRunStatus(run.id, SERVICE_STATUS.waiting, tx.now);
      }
      return;
    case "completed":
    case "turn_completed": {
      const stop = result.type === "turn_completed" && result.stop;
      if (result.type === "turn_completed" && result.state !== undefined) await k.store.setState(run.id, result.state, tx.now);
      if (result.type === "turn_completed" && result.subscriptions) await applyTurnSubscriptions(k, tx, run, turnScope(message.id, message.attempt));
      await finishMessage(k, tx, message, { status: "done", reply: result.type === "turn_completed" ? result.reply : null });
      await appendEvent(k, tx, run.id, "turn_completed", { ...base, ...(stop ? { stop: true } : {}) });
      if (stop) {
        await stopInstance(k, tx, run.id, "a handler returned stop: true");
        return;
      }
      break;
    }
    case "failed":
    case "turn_failed": {
      const decision =
        result.type === "turn_failed"
          ? decideRetry(result.retry, result.error, message.attempt, `${run.id}|m${message.id}`)
          : { decision: "non_retryable" as const, attempt: message.attempt, maxAttempts: 1 };
      await appendEvent(k, tx, run.id, "turn_failed", {
        ...base,
        error: result.error.message,
        family: result.error.family,
        decision: decision.decision,
        ...(decision.delayMs !== undefined ? { delayMs: decision.delayMs } : {}),
      });
      if (decision.decision === "scheduled") {
        const wakeAt = tx.now + decision.delayMs!;
        await releaseExits(k, run.id, message);
        await k.store.updateMessage(message.id, { status: MESSAGE_STATUS.active, attempt: message.attempt + 1, wakeAt }, tx.now);
        await k.store.setRunStatus(run.id, SERVICE_STATUS.waiting, tx.now);
        tx.after(() => k.armTimer(wakeAt));
        return;
      }
      await finishMessage(k, tx, message, { status: "failed", error: result.error });
      await appendEvent(k, tx, run.id, "message_failed", { messageId: message.id, code: result.error.code ?? "error" });
      break;
    }
    case "rejected":
      await finishMessage(k, tx, message, { status: "failed", error: result.error });
      await appendEvent(k, tx, run.id, "message_failed", { messageId: message.id, code: result.error.code ?? "service_turn_rejected" });
      break;
    case "deferred": {
      const wakeAt = tx.now + result.delayMs;
      await releaseExits(k, run.id, message);
      await k.store.updateMessage(message.id, { status: MESSAGE_STATUS.deferred, attempt: message.attempt + 1, wakeAt }, tx.now);
      await appendEvent(k, tx, run.id, "message_deferred", { ...base, delayMs: result.delayMs, ...(result.reason ? { reason: result.reason } : {}) });
      tx.after(() => k.armTimer(wakeAt));
      break;
    }
  }
  await goOn(k, tx, run);
}

/** The message is settled: go on with the next ready one, or rest. */
async function goOn(k: KernelContext, tx: Tx, run: RunRow): Promise<void> {
  await k.store.setWakePending(run.id, false);
  if (await k.store.nextReadyMessage(run.id)) await becomePending(k, tx, run);
  else {
    await k.store.setRunStatus(run.id, SERVICE_STATUS.idle, tx.now);
    await appendEvent(k, tx, run.id, "instance_idle");
  }
}

const becomePending = makeReady;

/**
 * The asker of the message a turn serves stopped waiting (it was cancelled, its ask timed out, or it
 * ended with the ask open): the turn is cancelled with it, as a call is in Restate. Its waits close,
 * the asks it made are cancelled in turn (down a chain of services), its running code is aborted
 * (steps see their signal, subprocesses are killed) and whatever it reports later carries an old
 * lease; nothing it would have committed (state, subscriptions, the reply) lands. The message ends
 * `cancelled` with `error` (its reason `cancelled` or `ask_timeout`) and the instance goes on with its
 * next message.
 */
export async function cancelServingTurn(k: KernelContext, tx: Tx, message: MessageRow, error: FailureBody): Promise<void> {
  await finishMessage(k, tx, message, { status: "cancelled", error });
  const run = await k.store.getRun(message.serviceRunId);
  // A stopped instance has no turn left to cancel (stopping finished its messages).
  if (!run || run.status === SERVICE_STATUS.stopped) return;
  const scope = turnScope(message.id, message.attempt);
  await k.store.closeOpenOpsWithPrefix(run.id, scope, OP_STATUS.cancelled, tx.now);
  await cancelOutbound(k, tx, run.id, "cancelled with its turn", scope);
  await appendEvent(k, tx, run.id, "turn_cancelled", {
    messageId: message.id,
    kind: message.kind,
    name: message.name,
    attempt: message.attempt,
    reason: error.reason ?? error.code ?? "cancelled",
  });
  // A new lease: the cancelled code's later reports are refused, while a lease taken for the next
  // message (later in this very transaction) is not aborted with it.
  const undone = (await k.store.bumpFence(run.id, tx.now)) - 1;
  tx.after(() => k.abortActivation(run.id, undone));
  k.tell.aborted(run.id);
  await k.store.setWakePending(run.id, false);
  // It rests until the batch's end: asks to it that the same batch cancels next (a sender with two
  // open asks here, a chain that comes back) must settle before it picks the message it serves next.
  await k.store.setRunStatus(run.id, SERVICE_STATUS.idle, tx.now);
  tx.atEnd(`serve-next:${run.id}`, (end) => serveNextAfterCancel(k, end, run.id));
}

async function serveNextAfterCancel(k: KernelContext, tx: Tx, runId: string): Promise<void> {
  const run = await k.store.getRun(runId);
  // Mail that came in the same batch found it idle and leased it already; or it was stopped.
  if (run?.status !== SERVICE_STATUS.idle) return;
  await goOn(k, tx, run);
}

/** A turn attempt that goes again (retry, defer) runs its code afresh: exit events it took are queued again. */
async function releaseExits(k: KernelContext, runId: string, message: MessageRow): Promise<void> {
  await k.store.releaseExitEvents(runId, turnScope(message.id, message.attempt));
}

/** A message timer fired: a deferred message is ready again, or a turn's retry is due. */
export async function fireMessageTimer(k: KernelContext, tx: Tx, message: MessageRow): Promise<void> {
  const run = await k.store.getRun(message.serviceRunId);
  if (message.status === MESSAGE_STATUS.deferred) {
    await k.store.updateMessage(message.id, { status: MESSAGE_STATUS.queued }, tx.now);
    // A busy instance picks it up after its current turn; only an idle one needs waking.
    if (run?.status === SERVICE_STATUS.idle) await becomePending(k, tx, run);
  } else if (message.status === MESSAGE_STATUS.active) {
    await k.store.updateMessage(message.id, { status: MESSAGE_STATUS.active }, tx.now);
    if (run?.status === SERVICE_STATUS.waiting) await becomePending(k, tx, run);
  } else {
    // Finished meanwhile (stopped, cancelled): just clear the timer.
    await k.store.updateMessage(message.id, { status: message.status, reply: message.reply, error: message.error }, tx.now);
  }
}

