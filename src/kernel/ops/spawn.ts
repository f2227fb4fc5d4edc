/**
 * `ctx.spawn`: starts a child workflow run under an id derived from the parent and the child's key
 * (or the op key), pinned to the parent's project snapshot. Spawning again under the same id finds
 * the same child, which is how `policy: "reuse"` and replays after a crash stay at one child.
 */
import { isService } from "../../shared/index.ts";
import { kernelFailure } from "../inbox.ts";
import { startRun } from "../run-lifecycle.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const spawnOps = defineOpKind<"spawn">({
  kinds: [OP_KIND.spawn],
  record: {
    async spawn(r, cmd) {
      const { caller } = r;
      const existing = await r.k.store.getRun(cmd.childRunId);
      if (existing && (existing.parentId !== caller.id || isService(existing) || existing.name !== cmd.name)) {
        // The key names a run that is not this parent's child of that workflow: refuse, never adopt it.
        const error = kernelFailure(
          "conflict",
          `child id ${cmd.childRunId} is already used by ${existing.kind} "${existing.name}"${existing.parentId === caller.id ? "" : " of another parent"}; give this spawn of "${cmd.name}" another key`,
          { childRunId: cmd.childRunId },
        );
        await r.put(OP_KIND.spawn, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed", error };
      }
      const created = !existing;
      if (!existing) {
        await startRun(r.k, r.tx, {
          id: cmd.childRunId,
          project: caller.project,
          snapshotId: caller.snapshotId,
          kind: "workflow",
          name: cmd.name,
          input: cmd.input,
          parentId: caller.id,
        });
      }
      const value = JSON.stringify({ childRunId: cmd.childRunId, created });
      await r.put(OP_KIND.spawn, OP_STATUS.completed, { result: value });
      await r.event("child_started", { opKey: cmd.opKey, workflow: cmd.name, childRunId: cmd.childRunId, ...(created ? {} : { reused: true }) });
      return { outcome: "value", value };
    },
  },
});
