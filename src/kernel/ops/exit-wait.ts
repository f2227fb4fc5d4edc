/**
 * `ctx.nextExit()`: takes the oldest queued exit event, or waits for `relationships.ts` to queue
 * one; with a timeout, its timer fails the wait with `exit_timeout`.
 */
import type { FailureBody } from "../../shared/index.ts";
import { appendEvent, unseenByRunningCode } from "../context.ts";
import { toExitEvent } from "../relationships.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, metaOf, when } from "./op-kind.ts";

export function exitTimeoutBody(timeoutMs: number | null): FailureBody {
  return {
    name: "ExitTimeoutError",
    message: `no exit event arrived within ${timeoutMs ?? "its"} ms`,
    code: "exit_timeout",
    reason: "exit_timeout",
    family: "timeout",
    retryable: false,
    details: { timeoutMs },
  };
}

export const exitWaitOps = defineOpKind<"wait_exit">({
  kinds: [OP_KIND.exit_wait],
  record: {
    async wait_exit(r, cmd) {
      const taken = await r.k.store.takeExitEvent(r.runId, cmd.opKey);
      if (taken) {
        const result = JSON.stringify(toExitEvent(taken));
        await r.put(OP_KIND.exit_wait, OP_STATUS.completed, { result });
        await r.event("exit_consumed", { opKey: cmd.opKey, exitId: taken.id });
        return { outcome: "completed", result };
      }
      const wakeAt = cmd.timeoutMs === null ? null : r.tx.now + cmd.timeoutMs;
      await r.put(OP_KIND.exit_wait, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ timeoutMs: cmd.timeoutMs }) });
      // Opens the wait on the run's timeline (exit_consumed or exit_wait_timed_out closes it).
      await r.event("exit_wait_started", { opKey: cmd.opKey, ...(wakeAt !== null ? { timeoutAt: wakeAt } : {}) });
      if (wakeAt !== null) r.tx.after(() => r.k.armTimer(wakeAt));
      return { outcome: "waiting" };
    },
  },
  async fire(k, tx, op) {
    const body = exitTimeoutBody(metaOf<{ timeoutMs: number | null }>(op).timeoutMs ?? null);
    await k.store.putOp({ ...op, status: OP_STATUS.failed, error: JSON.stringify(body), wakeAt: null, now: tx.now, unseen: await unseenByRunningCode(k, op.runId) });
    await appendEvent(k, tx, op.runId, "exit_wait_timed_out", { opKey: op.opKey });
    return true;
  },
  explain: (op, now) => `waiting for the next exit event of a monitored or linked run${op.wakeAt ? `; gives up${when(op.wakeAt, now)}` : ""}`,
});
