/**
 * A supervised member's `result()` and `currentRunId()`. The result waits on the member's current
 * run; a restart moves the wait to the next run (`supervision.ts`), so it resolves with the output
 * of the run that finally completes.
 */
import type { FailureBody, OpInfo } from "../../shared/index.ts";
import type { MemberRow } from "../../store/index.ts";
import { kernelFailure } from "../inbox.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, waitForEnd, type Recording } from "./op-kind.ts";

/** The member a handle acts on, running the handle's workflow (a refused spawn gets its refusal, never the other member). */
async function member(r: Recording, cmd: { groupKey: string; memberKey: string; name: string }): Promise<{ found: MemberRow } | { error: FailureBody }> {
  const found = await r.k.store.getMember(r.runId, cmd.groupKey, cmd.memberKey);
  if (!found) return { error: kernelFailure("not_found", `group ${cmd.groupKey} of ${r.runId} has no member "${cmd.memberKey}"`, { groupKey: cmd.groupKey, memberKey: cmd.memberKey }) };
  if (found.workflow !== cmd.name) {
    return {
      error: kernelFailure(
        "conflict",
        `member "${cmd.memberKey}" of group ${cmd.groupKey} runs workflow "${found.workflow}", not "${cmd.name}": the spawn of "${cmd.name}" under that key was refused; give it another key`,
        { groupKey: cmd.groupKey, memberKey: cmd.memberKey },
      ),
    };
  }
  return { found };
}

export const memberOps = defineOpKind<"wait_member" | "member_run">({
  kinds: [OP_KIND.member_result, OP_KIND.member_run],
  record: {
    async wait_member(r, cmd) {
      const meta = JSON.stringify({ groupKey: cmd.groupKey, memberKey: cmd.memberKey });
      const m = await member(r, cmd);
      if ("error" in m) {
        await r.put(OP_KIND.member_result, OP_STATUS.failed, { error: JSON.stringify(m.error), meta });
        return { outcome: "failed", error: m.error };
      }
      return await waitForEnd(r, OP_KIND.member_result, (await r.k.store.getRun(m.found.runId))!, meta);
    },
    async member_run(r, cmd) {
      const m = await member(r, cmd);
      if ("error" in m) {
        await r.put(OP_KIND.member_run, OP_STATUS.failed, { error: JSON.stringify(m.error) });
        return { outcome: "failed", error: m.error };
      }
      const value = JSON.stringify(m.found.runId);
      await r.put(OP_KIND.member_run, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
  explain: (op: OpInfo) => {
    const meta = (op.meta ?? {}) as { groupKey?: string; memberKey?: string };
    return `waiting for supervised member "${meta.memberKey ?? "?"}" (workflow "${op.name}", group ${meta.groupKey ?? "?"}) to complete; a failed run of it is restarted by the group`;
  },
});
