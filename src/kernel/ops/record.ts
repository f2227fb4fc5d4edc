/** Values known at call time (`ctx.log`, `ctx.now`, `ctx.random`, `ctx.mailbox`): recorded as they are. */
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const recordOps = defineOpKind<"record">({
  kinds: [OP_KIND.log, OP_KIND.now, OP_KIND.random, OP_KIND.mailbox],
  record: {
    async record(r, cmd) {
      await r.put(cmd.kind, OP_STATUS.completed, { result: cmd.value });
      if (cmd.kind === "log") await r.event("log", { opKey: cmd.opKey, ...(JSON.parse(cmd.value) as Record<string, unknown>) });
      else await r.event("value_recorded", { opKey: cmd.opKey, kind: cmd.kind });
      return { outcome: "recorded" };
    },
  },
});
