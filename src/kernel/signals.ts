/**
 * Run signals: delivered to the newest open wait for that name (an older one can only be a wait the
 * code abandoned in a race), or buffered until a wait consumes them.
 */
import { VilanoError } from "../shared/index.ts";
import { appendEvent, requireRun, unseenByRunningCode, type KernelContext } from "./context.ts";
import { wakeRun } from "./ready.ts";
import type { Tx } from "./group-commit.ts";
import { isTerminal, OP_STATUS } from "./types.ts";

export interface SignalDelivery {
  signalId: number;
  /** `delivered`: a waiting op took it; `buffered`: kept for the next wait on that name. */
  status: "delivered" | "buffered";
}

export async function sendSignal(k: KernelContext, tx: Tx, runId: string, name: string, payload: string | null): Promise<SignalDelivery> {
  const run = await requireRun(k, runId);
  if (isTerminal(run.status)) {
    throw new VilanoError("run_finished", `run ${runId} has already ${run.status}; signal "${name}" was not delivered`, {
      details: { runId, status: run.status, signal: name },
    });
  }
  const waiting = await k.store.latestWaitingSignalOp(runId, name);
  if (!waiting) {
    const signalId = await k.store.insertSignal(runId, name, payload, "buffered", null, tx.now);
    await appendEvent(k, tx, runId, "signal_received", { name, signalId, buffered: true });
    return { signalId, status: "buffered" };
  }
  const signalId = await k.store.insertSignal(runId, name, payload, "consumed", waiting.opKey, tx.now);
  await k.store.putOp({ ...waiting, status: OP_STATUS.completed, result: payload, wakeAt: null, now: tx.now, unseen: await unseenByRunningCode(k, runId) });
  await appendEvent(k, tx, runId, "signal_received", { name, signalId, opKey: waiting.opKey });
  await wakeRun(k, tx, runId);
  return { signalId, status: "delivered" };
}
