/** `ctx.trapExit(enabled)`: whether linked ends arrive as exit events instead of ending this run. */
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const trapExitOps = defineOpKind<"trap_exit">({
  kinds: [OP_KIND.trap_exit],
  record: {
    trap_exit(r, cmd) {
      r.k.store.setTrapsExits(r.runId, cmd.enabled);
      r.put(OP_KIND.trap_exit, OP_STATUS.completed, { result: JSON.stringify(cmd.enabled) });
      r.event("traps_exits", { opKey: cmd.opKey, enabled: cmd.enabled });
      return { outcome: "recorded" };
    },
  },
});
