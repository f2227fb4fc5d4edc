/**
 * Waits for run signals (`ctx.waitForSignal`): a buffered signal is consumed at once; otherwise the
 * op waits for `signals.ts` to deliver one, or for its timeout timer to fail it.
 */
import type { FailureBody } from "../../shared/index.ts";
import { appendEvent, unseenByRunningCode } from "../context.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, metaOf, when } from "./op-kind.ts";

export function signalTimeoutBody(signalName: string, timeoutMs: number | null): FailureBody {
  return {
    name: "SignalTimeoutError",
    message: `signal "${signalName}" did not arrive within ${timeoutMs ?? "its"} ms`,
    code: "signal_timeout",
    family: "timeout",
    retryable: false,
    details: { signalName, timeoutMs },
  };
}

export const signalWaitOps = defineOpKind<"wait_signal">({
  kinds: [OP_KIND.signal],
  record: {
    async wait_signal(r, cmd) {
      const signal = await r.k.store.takeBufferedSignal(r.runId, cmd.name, cmd.opKey);
      if (signal) {
        await r.put(OP_KIND.signal, OP_STATUS.completed, { result: signal.payload });
        await r.event("signal_consumed", { opKey: cmd.opKey, name: cmd.name, signalId: signal.id, buffered: true });
        return { outcome: "signal", payload: signal.payload };
      }
      const wakeAt = cmd.timeoutMs === null ? null : r.tx.now + cmd.timeoutMs;
      await r.put(OP_KIND.signal, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ timeoutMs: cmd.timeoutMs }) });
      await r.event("signal_wait_started", { opKey: cmd.opKey, name: cmd.name, ...(wakeAt !== null ? { timeoutAt: wakeAt } : {}) });
      if (wakeAt !== null) r.tx.after(() => r.k.armTimer(wakeAt));
      return { outcome: "waiting" };
    },
  },
  async fire(k, tx, op) {
    const body = signalTimeoutBody(op.name, metaOf<{ timeoutMs: number | null }>(op).timeoutMs ?? null);
    await k.store.putOp({ ...op, status: OP_STATUS.failed, error: JSON.stringify(body), wakeAt: null, now: tx.now, unseen: await unseenByRunningCode(k, op.runId) });
    await appendEvent(k, tx, op.runId, "signal_timed_out", { opKey: op.opKey, name: op.name });
    return true;
  },
  explain: (op, now, runId) =>
    `waiting for signal "${op.name}"${op.wakeAt ? `; gives up${when(op.wakeAt, now)}` : " (no timeout)"} — send it with \`vilano signal send ${runId} ${op.name}\``,
});
