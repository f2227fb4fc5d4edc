/**
 * `ctx.subscribe` / `ctx.unsubscribe` (service turns) and `ctx.publish`: durable topic
 * subscriptions of service instances, and a publish that enqueues one signal per subscribed,
 * not-stopped instance of the project in the same transaction that records the op — so a replayed
 * or retried publisher delivers each publish op once. A full mailbox rejects its delivery.
 */
import { enqueueMessage } from "../inbox.ts";
import { OP_KIND, OP_STATUS, SERVICE_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const pubsubOps = defineOpKind<"subscribe" | "unsubscribe" | "publish">({
  kinds: [OP_KIND.subscribe, OP_KIND.unsubscribe, OP_KIND.publish],
  record: {
    async subscribe(r, cmd) {
      const added = await r.k.store.subscribe({
        project: r.caller.project,
        topic: cmd.topic,
        serviceRunId: r.runId,
        handler: cmd.handler,
        maxQueued: cmd.maxQueued,
        createdAt: r.tx.now,
      });
      await r.put(OP_KIND.subscribe, OP_STATUS.completed, { result: JSON.stringify({ topic: cmd.topic, signal: cmd.handler, added }) });
      await r.event("subscribed", { opKey: cmd.opKey, topic: cmd.topic, signal: cmd.handler });
      return { outcome: "recorded" };
    },
    async unsubscribe(r, cmd) {
      const removed = await r.k.store.unsubscribe(r.runId, r.caller.project, cmd.topic, cmd.handler);
      await r.put(OP_KIND.unsubscribe, OP_STATUS.completed, { result: JSON.stringify({ topic: cmd.topic, removed }) });
      await r.event("unsubscribed", { opKey: cmd.opKey, topic: cmd.topic, removed });
      return { outcome: "recorded" };
    },
    async publish(r, cmd) {
      let matched = 0;
      let enqueued = 0;
      let rejected = 0;
      for (const sub of await r.k.store.subscribersOf(r.caller.project, cmd.topic)) {
        const target = await r.k.store.getRun(sub.serviceRunId);
        if (!target || target.status === SERVICE_STATUS.stopped) continue;
        matched++;
        const sent = await enqueueMessage(r.k, r.tx, {
          serviceRunId: sub.serviceRunId,
          kind: "signal",
          handler: sub.handler,
          payload: cmd.payload,
          sender: { runId: r.runId, opKey: cmd.opKey },
          maxQueued: sub.maxQueued,
        });
        if (sent.ok) enqueued++;
        else rejected++;
      }
      const value = JSON.stringify({ publishId: `${r.runId}/${cmd.opKey}`, topic: cmd.topic, matched, enqueued, rejected });
      await r.put(OP_KIND.publish, OP_STATUS.completed, { result: value });
      await r.event("published", { opKey: cmd.opKey, topic: cmd.topic, matched, enqueued, rejected });
      return { outcome: "value", value };
    },
  },
});
