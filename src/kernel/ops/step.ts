/**
 * Steps and subprocesses (`ctx.step`, `ctx.exec`): attempts with retries. A failed attempt gets its
 * retry decision recorded; a scheduled retry waits on the op's timer (`retry_wait`), which makes
 * the op `retry_ready` for the next activation to run the next attempt.
 */
import { decideRetry } from "../../shared/index.ts";
import type { OpRow } from "../../store/index.ts";
import type { KernelContext } from "../context.ts";
import type { Tx } from "../group-commit.ts";
import { appendEvent } from "../context.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind, when } from "./op-kind.ts";
import type { OpInfo } from "../../shared/index.ts";

export const stepOps = defineOpKind<"step_completed" | "step_failed">({
  kinds: [OP_KIND.step, OP_KIND.exec],
  record: {
    async step_completed(r, cmd) {
      const kind = cmd.kind ?? OP_KIND.step;
      await r.put(kind, OP_STATUS.completed, { attempt: cmd.attempt, result: cmd.result, meta: cmd.meta ?? null });
      await r.event(kind === OP_KIND.exec ? "exec_completed" : "step_completed", { opKey: cmd.opKey, name: cmd.name, attempt: cmd.attempt });
      return { outcome: "recorded" };
    },
    async step_failed(r, cmd) {
      const kind = cmd.kind ?? OP_KIND.step;
      const decision = decideRetry(cmd.retry, cmd.error, cmd.attempt, `${r.runId}|${cmd.opKey}`);
      const forced = (cmd.error.details as { forcedTermination?: unknown } | undefined)?.forcedTermination === true;
      await r.event(kind === OP_KIND.exec ? "exec_attempt_failed" : "step_attempt_failed", {
        opKey: cmd.opKey,
        name: cmd.name,
        attempt: cmd.attempt,
        family: cmd.error.family,
        error: cmd.error.message,
        ...(forced ? { forcedTermination: true } : {}),
        decision: decision.decision,
        ...(decision.delayMs !== undefined ? { delayMs: decision.delayMs } : {}),
      });
      const error = JSON.stringify(cmd.error);
      const meta = (extra: object) => JSON.stringify({ ...(cmd.meta ? (JSON.parse(cmd.meta) as object) : {}), ...extra });
      if (decision.decision === "scheduled") {
        const wakeAt = r.tx.now + decision.delayMs!;
        await r.put(kind, OP_STATUS.retry_wait, { attempt: cmd.attempt, error, wakeAt, meta: meta({ decision }) });
        await r.event("retry_scheduled", { opKey: cmd.opKey, nextAttempt: cmd.attempt + 1, delayMs: decision.delayMs, wakeAt });
        r.tx.after(() => r.k.armTimer(wakeAt));
        return { outcome: "retry", delayMs: decision.delayMs!, wakeAt };
      }
      await r.put(kind, OP_STATUS.failed, { attempt: cmd.attempt, error, meta: meta({ decision }) });
      await r.event(kind === OP_KIND.exec ? "exec_failed" : "step_failed", { opKey: cmd.opKey, name: cmd.name, attempt: cmd.attempt, decision: decision.decision });
      return { outcome: "failed", error: cmd.error };
    },
  },
});

/** A retry backoff ended (any kind with attempts): the next activation runs the next attempt. */
export async function fireRetry(k: KernelContext, tx: Tx, op: OpRow): Promise<boolean> {
  await k.store.putOp({ ...op, status: OP_STATUS.retry_ready, wakeAt: null, now: tx.now });
  await appendEvent(k, tx, op.runId, "timer_fired", { opKey: op.opKey, purpose: "retry", nextAttempt: op.attempt + 1 });
  return true;
}

export const explainRetry = (op: OpInfo, now: number): string =>
  `${op.kind} "${op.name}" failed on attempt ${op.attempt} (${op.error?.message ?? "error"}); attempt ${op.attempt + 1} runs${when(op.wakeAt, now)}`;
