/**
 * The op journal: records what an activation reports, only under the activation's current lease.
 * How each kind of op is recorded lives in its module under `ops/`.
 */
import { isService, VilanoError } from "../shared/index.ts";
import { requireLease, type KernelContext } from "./context.ts";
import type { Tx } from "./group-commit.ts";
import { createRecording } from "./ops/op-kind.ts";
import { recordCommand } from "./ops/index.ts";
import { valueTooLarge } from "../shared/value-limit.ts";
import { finishActivation } from "./run-lifecycle.ts";
import { isSettledOp, type OpCommand, type OpResolution } from "./types.ts";

export async function reportOp(k: KernelContext, tx: Tx, runId: string, fence: number, cmd: OpCommand): Promise<OpResolution> {
  const caller = await requireLease(k, runId, fence);
  const tooLarge = valueTooLarge(cmd, k.maxValueBytes);
  if (tooLarge) {
    // Ended here, in the command, for reports and posts alike (nobody waits on a post): the run
    // fails (a turn: its message) with the error that names the op, and nothing of the value is kept.
    await finishActivation(k, tx, runId, fence, isService(caller) ? { type: "rejected", error: tooLarge } : { type: "failed", error: tooLarge });
    if (!isService(caller)) tx.after(() => k.abortActivation(runId));
    return { outcome: "failed", error: tooLarge };
  }
  const existing = await k.store.getOp(runId, cmd.opKey);
  if (existing && isSettledOp(existing.status)) {
    // The engine resolves recorded ops from history and never reports them again; a second report
    // means two executions raced, and the first record must stand.
    throw new VilanoError("conflict", `run ${runId}: op ${cmd.opKey} is already recorded as ${existing.status}`, {
      details: { runId, opKey: cmd.opKey },
    });
  }
  return recordCommand(createRecording(k, tx, caller, cmd), cmd);
}
