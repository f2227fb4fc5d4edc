/** `ctx.connect` / `ctx.lookup`: create-or-get a service instance of the caller's project. */
import { connectInstance, instanceId, kernelFailure } from "../inbox.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const connectOps = defineOpKind<"connect">({
  kinds: [OP_KIND.connect],
  record: {
    async connect(r, cmd) {
      const { caller } = r;
      // Instances live in the caller's project and are pinned to the caller's snapshot.
      const found = await r.k.store.getRun(instanceId(caller.project, cmd.name, cmd.key));
      if (!found && cmd.mustExist) {
        // A failure the caller can catch (and that replays), not a refusal of the report.
        const error = kernelFailure("not_found", `service "${cmd.name}" has no instance with key ${JSON.stringify(cmd.key)}`, { key: cmd.key });
        await r.put(OP_KIND.connect, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed", error };
      }
      const { run } = await connectInstance(r.k, r.tx, {
        project: caller.project,
        snapshotId: caller.snapshotId,
        service: cmd.name,
        key: cmd.key,
        keyInput: cmd.keyInput,
        mustExist: false,
      });
      const value = JSON.stringify({ serviceRunId: run.id });
      await r.put(OP_KIND.connect, OP_STATUS.completed, { result: value });
      await r.event("service_connected", { opKey: cmd.opKey, service: cmd.name, key: cmd.key, serviceRunId: run.id });
      return { outcome: "value", value };
    },
  },
});
