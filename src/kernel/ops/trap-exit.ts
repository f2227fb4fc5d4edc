/** `ctx.trapExit(enabled)`: whether linked ends arrive as exit events instead of ending this run. */
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const trapExitOps = defineOpKind<"trap_exit">({
  kinds: [OP_KIND.trap_exit],
  record: {
    async trap_exit(r, cmd) {
      await r.k.store.setTrapsExits(r.runId, cmd.enabled);
      await r.put(OP_KIND.trap_exit, OP_STATUS.completed, { result: JSON.stringify(cmd.enabled) });
      await r.event("traps_exits", { opKey: cmd.opKey, enabled: cmd.enabled });
      return { outcome: "recorded" };
    },
  },
});
