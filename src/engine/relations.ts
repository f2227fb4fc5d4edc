/**
 * `ctx.monitor`, `ctx.link`, `ctx.trapExit` and `ctx.nextExit`: relationships to related runs and
 * the exit events they bring. Relating is a durable op that waits for its commit (it can be
 * refused); trapping is recorded without waiting; `nextExit` waits until an exit event is queued.
 */
import { DurableError, isErrorCode, parseDuration, VilanoError, type ExitEvent, type FailureBody, type HistoryOp } from "../shared/index.ts";
import type { LinkOptions, MonitorOptions, NextExitOptions, RelationTarget } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./durable-context.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

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

function checkOptions(member: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw new VilanoError("validation_failed", `${member} options must be an object`);
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new VilanoError("validation_failed", `${member}: unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: ${known.join(", ")})`);
  }
}

export interface Relations {
  relate(kind: "monitor" | "link", target: RelationTarget, options?: MonitorOptions | LinkOptions): Promise<void>;
  trapExit(enabled?: boolean): void;
  nextExit(options?: NextExitOptions): Promise<ExitEvent>;
}

export function createRelations(next: NextOp, state: ActivationState, scheduler: ReplayScheduler, enter: (member: string) => void): Relations {
  const fromHistory = async (recorded: HistoryOp, identity: Record<string, string>): Promise<unknown> => {
    if (recorded.status !== "completed" && recorded.status !== "failed") return state.wait();
    await scheduler.turn(recorded);
    if (recorded.status === "completed") return parse(recorded.result);
    throw failure(JSON.parse(recorded.error!) as FailureBody, identity);
  };

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
      if (recorded) {
        await fromHistory(recorded, identity);
        return;
      }
      const res = await state.track(
        state.report({ type: "relate", opKey: op.opKey, seq: op.seq, name: targetRunId, relationship: kind, targetRunId, propagate }),
      );
      if (res.outcome === "failed") throw failure(res.error, identity);
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
      if (recorded) return (await fromHistory(recorded, {})) as ExitEvent;
      const res = await state.track(state.report({ type: "wait_exit", opKey: op.opKey, seq: op.seq, name: op.name, timeoutMs }));
      if (res.outcome === "completed") return parse(res.result) as ExitEvent;
      // An exit may be queued while this code is still live: then it goes on without a replay.
      const outcome = await state.waitFor(op.opKey);
      if (outcome.status === "failed") throw failure(outcome.error, {});
      return parse(outcome.result) as ExitEvent;
    },
  };
}
