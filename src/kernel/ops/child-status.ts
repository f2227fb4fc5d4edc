/** `handle.status()`: a child run's status, recorded so a replay sees the same answer. */
import { kernelFailure } from "../inbox.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const childStatusOps = defineOpKind<"child_status">({
  kinds: [OP_KIND.child_status],
  record: {
    child_status(r, cmd) {
      const child = r.k.store.getRun(cmd.childRunId);
      if (!child || child.parentId !== r.runId) {
        const error = kernelFailure("not_found", `run ${cmd.childRunId} is not a child of ${r.runId}`, { childRunId: cmd.childRunId });
        r.put(OP_KIND.child_status, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed", error };
      }
      const value = JSON.stringify(child.status);
      r.put(OP_KIND.child_status, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
});
