/**
 * `ctx.subscribe` / `ctx.unsubscribe` (service turns) and `ctx.publish`: durable topic
 * subscriptions of service instances, and a publish that enqueues one signal per subscribed,
 * not-stopped instance of the project in the same transaction that records the op — so a replayed
 * or retried publisher delivers each publish op once. A full mailbox rejects its delivery.
 *
 * A subscription is part of its turn's atomic outcome: the ops are recorded here, and applied to
 * the subscriptions table only by the command that commits the turn (`applyTurnSubscriptions`), with
 * its state and reply; a turn that fails, is retried, deferred, rejected or cancelled leaves none.
 */
import type { RunRow } from "../../store/index.ts";
import type { KernelContext } from "../context.ts";
import type { Tx } from "../group-commit.ts";
import { appendEvent } from "../context.ts";
import { enqueueMessage } from "../inbox.ts";
import { OP_KIND, OP_STATUS, SERVICE_STATUS } from "../types.ts";
import { defineOpKind, metaOf } from "./op-kind.ts";

interface SubscriptionMeta {
  /** The onSignal handler (null on an unsubscribe: every handler of the topic). */
  handler: string | null;
  /** The instance's mailbox limit when it subscribed. */
  maxQueued: number | null;
}

export const pubsubOps = defineOpKind<"subscribe" | "unsubscribe" | "publish">({
  kinds: [OP_KIND.subscribe, OP_KIND.unsubscribe, OP_KIND.publish],
  record: {
    async subscribe(r, cmd) {
      const meta: SubscriptionMeta = { handler: cmd.handler, maxQueued: cmd.maxQueued };
      await r.put(OP_KIND.subscribe, OP_STATUS.completed, { result: JSON.stringify({ topic: cmd.topic, signal: cmd.handler }), meta: JSON.stringify(meta) });
      return { outcome: "recorded" };
    },
    async unsubscribe(r, cmd) {
      const meta: SubscriptionMeta = { handler: cmd.handler, maxQueued: null };
      const said = cmd.handler === null ? { topic: cmd.topic } : { topic: cmd.topic, signal: cmd.handler };
      await r.put(OP_KIND.unsubscribe, OP_STATUS.completed, { result: JSON.stringify(said), meta: JSON.stringify(meta) });
      return { outcome: "recorded" };
    },
    async publish(r, cmd) {
      const publishId = `${r.runId}/${cmd.opKey}`;
      // What each subscriber's handler receives (the payload is JSON text already; absent stays absent).
      const delivery = `{"topic":${JSON.stringify(cmd.topic)},${cmd.payload === null ? "" : `"payload":${cmd.payload},`}"publishId":${JSON.stringify(publishId)},"publisherRunId":${JSON.stringify(r.runId)}}`;
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
          payload: delivery,
          sender: { runId: r.runId, opKey: cmd.opKey },
          maxQueued: sub.maxQueued,
        });
        if (sent.ok) enqueued++;
        else rejected++;
      }
      const value = JSON.stringify({ publishId, topic: cmd.topic, matched, enqueued, rejected });
      await r.put(OP_KIND.publish, OP_STATUS.completed, { result: value });
      await r.event("published", { opKey: cmd.opKey, topic: cmd.topic, matched, enqueued, rejected });
      return { outcome: "value", value };
    },
  },
});

/**
 * The turn whose ops are under `scope` commits: its subscribe and unsubscribe ops take effect, in
 * the order the code called them.
 */
export async function applyTurnSubscriptions(k: KernelContext, tx: Tx, run: RunRow, scope: string): Promise<void> {
  const ops = (await k.store.listOpsWithPrefix(run.id, scope))
    .filter((op) => (op.kind === OP_KIND.subscribe || op.kind === OP_KIND.unsubscribe) && op.status === OP_STATUS.completed)
    .sort((a, b) => a.seq - b.seq);
  for (const op of ops) {
    const meta = metaOf<SubscriptionMeta>(op);
    const topic = op.name;
    if (op.kind === OP_KIND.subscribe) {
      // Ops recorded before subscriptions waited for their turn were applied then; again is harmless.
      const handler = meta.handler ?? topic;
      await k.store.subscribe({ project: run.project, topic, serviceRunId: run.id, handler, maxQueued: meta.maxQueued ?? null, createdAt: tx.now });
      await appendEvent(k, tx, run.id, "subscribed", { opKey: op.opKey, topic, signal: handler });
    } else {
      const removed = await k.store.unsubscribe(run.id, run.project, topic, meta.handler ?? null);
      await appendEvent(k, tx, run.id, "unsubscribed", { opKey: op.opKey, topic, removed });
    }
  }
}
