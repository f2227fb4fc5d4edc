/**
 * `ref.ask.X()`: enqueue an ask and wait for its reply, which `inbox.finishMessage` records on this
 * op when the service's turn ends. Its timer is the ask's timeout: the op fails with `ask_timeout`
 * and a message no turn has started is withdrawn, while the turn serving one is cancelled.
 */
import type { FailureBody } from "../../shared/index.ts";
import { appendEvent, unseenByRunningCode } from "../context.ts";
import { enqueueMessage, kernelFailure } from "../inbox.ts";
import { cancelServingTurn } from "../turns.ts";
import { MESSAGE_STATUS, OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, metaOf, when } from "./op-kind.ts";

interface AskMeta {
  serviceRunId: string;
  messageId: number;
  timeoutMs: number | null;
}

export function askTimeoutBody(serviceRunId: string, timeoutMs: number | null): FailureBody {
  return {
    ...kernelFailure("ask_timeout", `no reply from ${serviceRunId} within ${timeoutMs ?? "its"} ms`, { serviceRunId, timeoutMs }),
    name: "AskTimeoutError",
    family: "timeout",
  };
}

export const askOps = defineOpKind<"ask">({
  kinds: [OP_KIND.ask],
  record: {
    async ask(r, cmd) {
      const sent = await enqueueMessage(r.k, r.tx, {
        serviceRunId: cmd.serviceRunId,
        kind: "ask",
        handler: cmd.handler,
        payload: cmd.payload,
        sender: { runId: r.runId, opKey: cmd.opKey },
        maxQueued: cmd.maxQueued,
      });
      if (!sent.ok) {
        await r.put(OP_KIND.ask, OP_STATUS.failed, { error: JSON.stringify(sent.error) });
        return { outcome: "failed", error: sent.error };
      }
      const wakeAt = cmd.timeoutMs === null ? null : r.tx.now + cmd.timeoutMs;
      const meta: AskMeta = { serviceRunId: cmd.serviceRunId, messageId: sent.messageId, timeoutMs: cmd.timeoutMs };
      await r.put(OP_KIND.ask, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify(meta) });
      await r.event("ask_sent", { opKey: cmd.opKey, to: cmd.serviceRunId, name: cmd.handler, messageId: sent.messageId });
      if (wakeAt !== null) r.tx.after(() => r.k.armTimer(wakeAt));
      return { outcome: "waiting" };
    },
  },
  async fire(k, tx, op) {
    const meta = metaOf<AskMeta>(op);
    const body = askTimeoutBody(meta.serviceRunId ?? "the service", meta.timeoutMs ?? null);
    await k.store.putOp({ ...op, status: OP_STATUS.failed, error: JSON.stringify(body), wakeAt: null, now: tx.now, unseen: await unseenByRunningCode(k, op.runId) });
    await appendEvent(k, tx, op.runId, "ask_timed_out", { opKey: op.opKey, messageId: meta.messageId });
    // A message no turn has started is withdrawn; the turn serving one is cancelled with it.
    const message = meta.messageId === undefined ? null : await k.store.getMessage(meta.messageId);
    if (message && (message.status === MESSAGE_STATUS.queued || message.status === MESSAGE_STATUS.deferred)) {
      await k.store.updateMessage(message.id, { status: MESSAGE_STATUS.cancelled, error: JSON.stringify(body) }, tx.now);
      await appendEvent(k, tx, message.serviceRunId, "message_cancelled", { messageId: message.id, reason: "ask timed out" });
    } else if (message?.status === MESSAGE_STATUS.active) {
      await cancelServingTurn(k, tx, message, body);
    }
    return true;
  },
  explain: (op, now) => {
    const meta = (op.meta ?? {}) as Partial<AskMeta>;
    return `waiting for the reply to ${op.name} from ${meta.serviceRunId ?? "a service"}${op.wakeAt ? `; times out${when(op.wakeAt, now)}` : ""}`;
  },
});
