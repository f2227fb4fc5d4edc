/**
 * `ctx.monitor` / `ctx.link` (and `handle.monitor()`, `ref.link()`): a relationship to a related
 * run. A link is recorded in both directions. A target that has already ended fires at once.
 */
import { kernelFailure } from "../inbox.ts";
import { areRelated, reachOwner } from "../relationships.ts";
import { isTerminal, OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const relateOps = defineOpKind<"relate">({
  kinds: [OP_KIND.monitor, OP_KIND.link],
  record: {
    async relate(r, cmd) {
      const kind = cmd.relationship;
      const fail = async (code: string, message: string) => {
        const error = kernelFailure(code, message, { targetRunId: cmd.targetRunId });
        await r.put(kind, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed" as const, error };
      };
      const target = await r.k.store.getRun(cmd.targetRunId);
      if (!target) return fail("not_found", `ctx.${kind}(): run ${JSON.stringify(cmd.targetRunId)} does not exist`);
      if (target.id === r.runId) return fail("validation_failed", `ctx.${kind}(): a run cannot ${kind} itself`);
      if (!areRelated(r.caller, target)) {
        return fail("not_related", `ctx.${kind}(): ${target.id} is not related to ${r.runId} (relate to a child, the parent, or a service instance of the project)`);
      }
      const value = JSON.stringify({ targetId: target.id });
      await r.put(kind, OP_STATUS.completed, { result: value, meta: JSON.stringify({ targetId: target.id, propagate: cmd.propagate }) });
      const added = await r.k.store.addRelationship(r.runId, target.id, kind, cmd.propagate, r.tx.now);
      if (kind === "link") await r.k.store.addRelationship(target.id, r.runId, kind, cmd.propagate, r.tx.now);
      await r.event("relationship_added", { opKey: cmd.opKey, kind, targetId: target.id, ...(kind === "link" ? { propagate: cmd.propagate } : {}) });
      // A target that already ended fires now, as if it had ended after this — once: relating again
      // (a retried turn, a second call) finds the relationship, which has already fired.
      if (added && isTerminal(target.status)) await reachOwner(r.k, r.tx, target, { ownerId: r.runId, kind, propagate: cmd.propagate });
      return { outcome: "value", value };
    },
  },
});
