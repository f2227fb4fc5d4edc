/** `ref.send.X()` / `ref.signal.X()`: enqueue fire-and-forget mail to a service instance. */
import { enqueueMessage } from "../inbox.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const sendOps = defineOpKind<"send">({
  kinds: [OP_KIND.send],
  record: {
    async send(r, cmd) {
      const sent = await enqueueMessage(r.k, r.tx, {
        serviceRunId: cmd.serviceRunId,
        kind: cmd.messageKind,
        handler: cmd.handler,
        payload: cmd.payload,
        sender: { runId: r.runId, opKey: cmd.opKey },
        maxQueued: cmd.maxQueued,
      });
      if (!sent.ok) {
        await r.put(OP_KIND.send, OP_STATUS.failed, { error: JSON.stringify(sent.error) });
        return { outcome: "failed", error: sent.error };
      }
      const value = JSON.stringify({ messageId: sent.messageId });
      await r.put(OP_KIND.send, OP_STATUS.completed, { result: value });
      await r.event("message_sent", { opKey: cmd.opKey, to: cmd.serviceRunId, kind: cmd.messageKind, name: cmd.handler, messageId: sent.messageId });
      return { outcome: "value", value };
    },
  },
});
