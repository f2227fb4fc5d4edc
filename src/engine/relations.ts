/**
 * `ctx.monitor`, `ctx.link`, `ctx.trapExit` and `ctx.nextExit`: relationships to related runs and
 * the exit events they bring. Relating is a durable op that waits for its commit (it can be
 * refused); trapping is recorded without waiting; `nextExit` waits until an exit event is queued.
 */
import { DurableError, isErrorCode, parseDuration, VilanoError, type ExitEvent, type FailureBody, type HistoryOp } from "../shared/index.ts";
import type { LinkOptions, MonitorOptions, NextExitOptions, RelationTarget } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { fromHistory, reportValue, reportWait } from "./durable-wait.ts";
import { checkOptions } from "./options.ts";

/** A refused relationship or a timed-out exit wait, as the code sees it. */
function failure(body: FailureBody, identity: Record<string, string>): DurableError {
  const code = body.code && isErrorCode(body.code) ? body.code : "validation_failed";
  return new DurableError(code, body.message, body, identity);
}

function targetIdOf(member: string, target: RelationTarget): string {
  const id = typeof target === "string" ? target : (target as { id?: unknown } | null)?.id;
  if (typeof id !== "string" || id === "") {
    throw new VilanoError("validation_failed", `${member} needs a run id, a child handle or a service ref, got ${JSON.stringify(target)}`);
  }
  return id;
}

export interface Relations {
  relate(kind: "monitor" | "link", target: RelationTarget, options?: MonitorOptions | LinkOptions): Promise<void>;
  trapExit(enabled?: boolean): void;
  nextExit(options?: NextExitOptions): Promise<ExitEvent>;
}

export function createRelations(next: NextOp, state: ActivationState, scheduler: ReplayScheduler, enter: (member: string) => void): Relations {
  const recordedOutcome = (recorded: HistoryOp, identity: Record<string, string>) => fromHistory(state, scheduler, recorded, (body) => failure(body, identity), recorded.kind === "exit_wait");

  return {
    async relate(kind, target, options) {
      const member = `ctx.${kind}()`;
      enter(member);
      const targetRunId = targetIdOf(member, target);
      checkOptions(member, options, kind === "link" ? ["key", "propagate"] : ["key"]);
      const propagate = (options as LinkOptions | undefined)?.propagate ?? "abnormal";
      if (propagate !== "abnormal" && propagate !== "all") {
        throw new VilanoError("validation_failed", `${member}: propagate must be "abnormal" or "all", got ${JSON.stringify(propagate)}`);
      }
      const identity = { targetRunId };
      const { op, recorded } = next(kind, targetRunId, options?.key);
      if (recorded) await recordedOutcome(recorded, identity);
      else await reportValue(state, { type: "relate", opKey: op.opKey, seq: op.seq, name: targetRunId, relationship: kind, targetRunId, propagate }, (body) => failure(body, identity));
    },

    trapExit(enabled = true) {
      enter("ctx.trapExit()");
      if (typeof enabled !== "boolean") throw new VilanoError("validation_failed", `ctx.trapExit() takes true or false, got ${JSON.stringify(enabled)}`);
      const { op, recorded } = next("trap_exit", "trapExit", undefined);
      if (!recorded) state.post({ type: "trap_exit", opKey: op.opKey, seq: op.seq, name: op.name, enabled });
    },

    async nextExit(options) {
      enter("ctx.nextExit()");
      checkOptions("ctx.nextExit()", options, ["key", "timeout"]);
      const timeoutMs = options?.timeout === undefined ? null : parseDuration(options.timeout, "timeout of ctx.nextExit()");
      const { op, recorded } = next("exit_wait", "exit", options?.key);
      if (recorded) return (await recordedOutcome(recorded, {})) as ExitEvent;
      return (await reportWait(state, { type: "wait_exit", opKey: op.opKey, seq: op.seq, name: op.name, timeoutMs }, (body) => failure(body, {}))) as ExitEvent;
    },
  };
}
