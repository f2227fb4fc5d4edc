/** `handle.status()`: a child run's status, recorded so a replay sees the same answer. */
import { childOf } from "./child-of.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const childStatusOps = defineOpKind<"child_status">({
  kinds: [OP_KIND.child_status],
  record: {
    async child_status(r, cmd) {
      const found = await childOf(r, cmd.childRunId, cmd.name);
      if ("error" in found) {
        await r.put(OP_KIND.child_status, OP_STATUS.failed, { error: JSON.stringify(found.error) });
        return { outcome: "failed", error: found.error };
      }
      const value = JSON.stringify(found.child.status);
      await r.put(OP_KIND.child_status, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
});
