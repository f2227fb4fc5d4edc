/** Durable timers (`ctx.sleep`): the op waits until its `wake_at`, then completes. */
import { appendEvent } from "../context.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, when } from "./op-kind.ts";

export const sleepOps = defineOpKind<"sleep">({
  kinds: [OP_KIND.sleep],
  record: {
    sleep(r, cmd) {
      const wakeAt = r.tx.now + cmd.durationMs;
      r.put(OP_KIND.sleep, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ durationMs: cmd.durationMs }) });
      r.event("timer_scheduled", { opKey: cmd.opKey, durationMs: cmd.durationMs, wakeAt });
      r.tx.after(() => r.k.armTimer(wakeAt));
      return { outcome: "scheduled", wakeAt };
    },
  },
  fire(k, tx, op) {
    k.store.putOp({ ...op, status: OP_STATUS.completed, wakeAt: null, now: tx.now });
    appendEvent(k, tx, op.runId, "timer_fired", { opKey: op.opKey, purpose: "sleep" });
    return true;
  },
  explain: (op, now) => `sleeping (${op.opKey}); wakes${when(op.wakeAt, now)}`,
});
