/**
 * `ctx.supervise()` and `group.spawn()` / `group.members()`: a supervision group owned by the run,
 * its keyed members (children whose runs the group replaces on restart), and a recorded view of
 * them. Restarts themselves happen in `supervision.ts`, when a member's run ends.
 */
import { memberRunId } from "../../shared/index.ts";
import { kernelFailure } from "../inbox.ts";
import { startRun } from "../run-lifecycle.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, type Recording } from "./op-kind.ts";

async function requireGroup(r: Recording, groupKey: string) {
  return await r.k.store.getSupervisor(r.runId, groupKey);
}

export const superviseOps = defineOpKind<"supervise" | "supervised_spawn" | "supervision_members">({
  kinds: [OP_KIND.supervise, OP_KIND.member_spawn, OP_KIND.members],
  record: {
    async supervise(r, cmd) {
      await r.k.store.insertSupervisor({
        ownerId: r.runId,
        groupKey: cmd.opKey,
        strategy: cmd.strategy,
        maxRestarts: cmd.maxRestarts,
        windowMs: cmd.windowMs,
        onExhausted: cmd.onExhausted,
        createdAt: r.tx.now,
      });
      await r.put(OP_KIND.supervise, OP_STATUS.completed, { result: JSON.stringify({ groupKey: cmd.opKey }) });
      await r.event("supervisor_started", { opKey: cmd.opKey, strategy: cmd.strategy, maxRestarts: cmd.maxRestarts, windowMs: cmd.windowMs });
      return { outcome: "recorded" };
    },
    async supervised_spawn(r, cmd) {
      const fail = async (code: string, message: string) => {
        const error = kernelFailure(code, message, { groupKey: cmd.groupKey, memberKey: cmd.memberKey });
        await r.put(OP_KIND.member_spawn, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed" as const, error };
      };
      if (!await requireGroup(r, cmd.groupKey)) return fail("not_found", `${r.runId} has no supervision group ${cmd.groupKey}`);
      const existing = await r.k.store.getMember(r.runId, cmd.groupKey, cmd.memberKey);
      if (existing && existing.workflow !== cmd.name) {
        return fail("conflict", `member "${cmd.memberKey}" of group ${cmd.groupKey} runs workflow "${existing.workflow}", not "${cmd.name}"; give it another key`);
      }
      let runId = existing?.runId;
      if (!existing) {
        runId = memberRunId(r.runId, cmd.groupKey, cmd.memberKey, 0);
        await r.k.store.insertMember({ ownerId: r.runId, groupKey: cmd.groupKey, memberKey: cmd.memberKey, workflow: cmd.name, input: cmd.input, runId, createdAt: r.tx.now });
        await startRun(r.k, r.tx, { id: runId, project: r.caller.project, snapshotId: r.caller.snapshotId, kind: "workflow", name: cmd.name, input: cmd.input, parentId: r.runId });
      }
      const value = JSON.stringify({ runId, created: !existing });
      await r.put(OP_KIND.member_spawn, OP_STATUS.completed, { result: value, meta: JSON.stringify({ groupKey: cmd.groupKey, memberKey: cmd.memberKey }) });
      await r.event("member_started", { opKey: cmd.opKey, groupKey: cmd.groupKey, memberKey: cmd.memberKey, runId, ...(existing ? { reused: true } : {}) });
      return { outcome: "value", value };
    },
    async supervision_members(r, cmd) {
      const members = [];
      for (const m of await r.k.store.listMembers(r.runId, cmd.groupKey)) {
        members.push({
          key: m.memberKey,
          workflow: m.workflow,
          definitionName: m.workflow,
          runId: m.runId,
          currentRunId: m.runId,
          restarts: m.restarts,
          generation: m.restarts,
          status: (await r.k.store.getRun(m.runId))?.status ?? "pending",
          // Stored as JSON (null: spawned without input, which then has no `input` here either).
          ...(m.input === null ? {} : { input: JSON.parse(m.input) as unknown }),
        });
      }
      const value = JSON.stringify(members);
      await r.put(OP_KIND.members, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    },
  },
});
