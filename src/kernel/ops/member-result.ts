/**
 * A supervised member's `result()` and `currentRunId()`. The result waits on the member's current
 * run; a restart moves the wait to the next run (`supervision.ts`), so it resolves with the output
 * of the run that finally completes.
 */
import type { OpInfo } from "../../shared/index.ts";
import { kernelFailure } from "../inbox.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, waitForEnd, type Recording } from "./op-kind.ts";

function member(r: Recording, cmd: { groupKey: string; memberKey: string }) {
  return r.k.store.getMember(r.runId, cmd.groupKey, cmd.memberKey);
}

export const memberOps = defineOpKind<"wait_member" | "member_run">({
  kinds: [OP_KIND.member_result, OP_KIND.member_run],
  record: {
    wait_member(r, cmd) {
      const meta = JSON.stringify({ groupKey: cmd.groupKey, memberKey: cmd.memberKey });
      const found = member(r, cmd);
      if (!found) {
        const error = kernelFailure("not_found", `group ${cmd.groupKey} of ${r.runId} has no member "${cmd.memberKey}"`, { groupKey: cmd.groupKey, memberKey: cmd.memberKey });
        r.put(OP_KIND.member_result, OP_STATUS.failed, { error: JSON.stringify(error), meta });
        return { outcome: "failed", error };
      }
      return waitForEnd(r, OP_KIND.member_result, r.k.store.getRun(found.runId)!, meta);
    },
    member_run(r, cmd) {
      const found = member(r, cmd);
      if (!found) {
        const error = kernelFailure("not_found", `group ${cmd.groupKey} of ${r.runId} has no member "${cmd.memberKey}"`);
        r.put(OP_KIND.member_run, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed", error };
      }
      const value = JSON.stringify(found.runId);
      r.put(OP_KIND.member_run, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
  explain: (op: OpInfo) => {
    const meta = (op.meta ?? {}) as { groupKey?: string; memberKey?: string };
    return `waiting for supervised member "${meta.memberKey ?? "?"}" (workflow "${op.name}", group ${meta.groupKey ?? "?"}) to complete; a failed run of it is restarted by the group`;
  },
});
