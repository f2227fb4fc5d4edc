/**
 * Which run a child handle acts on: the caller's child of that id, running the handle's workflow.
 * A handle whose spawn was refused (its key names a child of another workflow) gets the refusal,
 * never the other child.
 */
import { isService, type FailureBody } from "../../shared/index.ts";
import type { RunRow } from "../../store/index.ts";
import { kernelFailure } from "../inbox.ts";
import type { Recording } from "./op-kind.ts";

export async function childOf(r: Recording, childRunId: string, workflow: string): Promise<{ child: RunRow } | { error: FailureBody }> {
  const child = await r.k.store.getRun(childRunId);
  if (!child || child.parentId !== r.runId) {
    return { error: kernelFailure("not_found", `run ${childRunId} is not a child of ${r.runId}`, { childRunId }) };
  }
  if (isService(child) || child.name !== workflow) {
    return {
      error: kernelFailure(
        "conflict",
        `child id ${childRunId} belongs to ${child.kind} "${child.name}", not "${workflow}": the spawn of "${workflow}" under that key was refused; give it another key`,
        { childRunId, workflow, existing: child.name },
      ),
    };
  }
  return { child };
}
