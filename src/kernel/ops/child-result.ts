/**
 * `handle.result()`: waits for a child run to end. A child that already ended resolves the op at
 * once; otherwise the op waits and `run-ends.ts` settles it in the transaction that ends the child.
 */
import type { OpInfo } from "../../shared/index.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { childOf } from "./child-of.ts";
import { defineOpKind, waitForEnd } from "./op-kind.ts";

export const childResultOps = defineOpKind<"wait_child">({
  kinds: [OP_KIND.child_result],
  record: {
    async wait_child(r, cmd) {
      const meta = JSON.stringify({ childRunId: cmd.childRunId });
      const found = await childOf(r, cmd.childRunId, cmd.name);
      if ("error" in found) {
        await r.put(OP_KIND.child_result, OP_STATUS.failed, { error: JSON.stringify(found.error), meta });
        return { outcome: "failed", error: found.error };
      }
      return await waitForEnd(r, OP_KIND.child_result, found.child, meta);
    },
  },
  explain: (op: OpInfo) => {
    const childRunId = (op.meta as { childRunId?: string } | undefined)?.childRunId ?? "a child";
    return `waiting for child workflow "${op.name}" ${childRunId} to finish — \`vilano run explain ${childRunId}\` says what it waits for`;
  },
});
