/** Durable timers (`ctx.sleep`): the op waits until its `wake_at`, then completes. */
import { appendEvent, unseenByRunningCode } from "../context.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, when } from "./op-kind.ts";

const MAX_CALL_AGE_MS = 60_000;

export const sleepOps = defineOpKind<"sleep">({
  kinds: [OP_KIND.sleep],
  record: {
    async sleep(r, cmd) {
      // The duration runs from the call, not from this batch; a call time from a clock ahead of ours
      // counts as now, and one older than a minute (a clock far behind) counts as a minute ago.
      const from = cmd.calledAt === undefined ? r.tx.now : Math.min(r.tx.now, Math.max(r.tx.now - MAX_CALL_AGE_MS, cmd.calledAt));
      const wakeAt = from + cmd.durationMs;
      await r.put(OP_KIND.sleep, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ durationMs: cmd.durationMs }) });
      await r.event("timer_scheduled", { opKey: cmd.opKey, durationMs: cmd.durationMs, wakeAt });
      r.tx.after(() => r.k.armTimer(wakeAt, "sleep"));
      return { outcome: "scheduled", wakeAt };
    },
  },
  async fire(k, tx, op) {
    // Fired up to the lead ahead of time: the result keeps the due time, which the code waits for.
    const ahead = op.wakeAt !== null && tx.now < op.wakeAt;
    const result = JSON.stringify(ahead ? { dueAt: op.wakeAt, ahead } : { dueAt: op.wakeAt });
    await k.store.putOp({ ...op, status: OP_STATUS.completed, wakeAt: null, result, now: tx.now, unseen: await unseenByRunningCode(k, op.runId) });
    await appendEvent(k, tx, op.runId, "timer_fired", { opKey: op.opKey, purpose: "sleep", dueAt: op.wakeAt });
    return true;
  },
  explain: (op, now) => `sleeping (${op.opKey}); wakes${when(op.wakeAt, now)}`,
});
