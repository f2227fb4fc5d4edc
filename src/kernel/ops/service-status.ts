/** `ref.status()`: a service instance's status, recorded so a replay sees the same answer. */
import { VilanoError } from "../../shared/index.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const serviceStatusOps = defineOpKind<"service_status">({
  kinds: [OP_KIND.service_status],
  record: {
    async service_status(r, cmd) {
      const target = await r.k.store.getRun(cmd.serviceRunId);
      if (!target) throw new VilanoError("not_found", `service instance ${cmd.serviceRunId} does not exist`);
      const value = JSON.stringify(target.status);
      await r.put(OP_KIND.service_status, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
});
