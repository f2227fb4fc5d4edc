/**
 * `ctx.spawn` and child handles. Spawning is recorded without waiting (the child's id is derived
 * from the parent's id and the child's key, so the handle exists at once); `result()`, `status()`
 * and `signal()` are durable ops of the parent, resolved from history on replay. A `result()` whose
 * child is still running waits, and takes the child's end live when the parent's code still runs.
 */
import { ChildFailedError, childRunId, toOptionalJson, VilanoError, type FailureBody, type HistoryOp, type RunStatus } from "../shared/index.ts";
import { fromHistory, reportValue, reportWait, type ToError } from "./durable-wait.ts";
import { checkOptions } from "./options.ts";
import { isWorkflowDefinition, type AnyWorkflowDefinition, type ChildHandle, type LinkOptions, type MonitorOptions, type SpawnOptions } from "../sdk/index.ts";
import type { Relations } from "./relations.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { handed } from "./step-scope.ts";

const SPAWN_OPTIONS = ["key", "policy"];

function spawnOptions(next: NextOp, workflow: string, options: SpawnOptions | undefined): { key: string | undefined; fresh: boolean } {
  if (options === undefined) return { key: undefined, fresh: false };
  checkOptions(`ctx.spawn("${workflow}")`, options, SPAWN_OPTIONS);
  if (options.key !== undefined && (typeof options.key !== "string" || options.key === "")) {
    throw new VilanoError("validation_failed", `ctx.spawn("${workflow}"): key must be a non-empty string, got ${JSON.stringify(options.key)}`);
  }
  if (options.key !== undefined) next.checkName(`the key given to ctx.spawn("${workflow}")`, options.key);
  if (options.policy !== undefined && options.policy !== "reuse" && options.policy !== "fresh") {
    throw new VilanoError("validation_failed", `ctx.spawn("${workflow}"): policy must be "reuse" or "fresh", got ${JSON.stringify(options.policy)}`);
  }
  return { key: options.key, fresh: options.policy === "fresh" };
}

export function createChildren(
  runId: string,
  next: NextOp,
  state: ActivationState,
  scheduler: ReplayScheduler,
  enter: (member: string) => void,
  relations: Relations,
): (workflow: AnyWorkflowDefinition, input: unknown, options?: SpawnOptions) => ChildHandle {
  const recordedOutcome = (recorded: HistoryOp, onFailure: ToError) => fromHistory(state, scheduler, recorded, onFailure, recorded.kind === "child_result");

  function handle(id: string, workflow: string): ChildHandle {
    const failed = (error: FailureBody) => new ChildFailedError(id, workflow, error);

    async function result(): Promise<unknown> {
      enter("child.result()");
      const { op, recorded } = next("child_result", workflow, undefined);
      if (recorded) return recordedOutcome(recorded, failed);
      return reportWait(state, { type: "wait_child", opKey: op.opKey, seq: op.seq, name: workflow, childRunId: id }, failed);
    }

    async function status(): Promise<RunStatus> {
      enter("child.status()");
      const { op, recorded } = next("child_status", workflow, undefined);
      if (recorded) return (await recordedOutcome(recorded, failed)) as RunStatus;
      return (await reportValue(state, { type: "child_status", opKey: op.opKey, seq: op.seq, name: workflow, childRunId: id }, failed)) as RunStatus;
    }

    async function signal(name: string, payload: unknown): Promise<void> {
      enter("child.signal()");
      if (typeof name !== "string" || name.trim() === "") {
        throw new VilanoError("validation_failed", `child.signal() needs a non-empty signal name, got ${JSON.stringify(name)}`);
      }
      const json = toOptionalJson(payload, `the payload of signal "${name}"`);
      const { op, recorded } = next("child_signal", name, undefined);
      if (recorded) await recordedOutcome(recorded, failed);
      else await reportValue(state, { type: "child_signal", opKey: op.opKey, seq: op.seq, name, childRunId: id, workflow, payload: json }, failed);
    }

    // A plain frozen object without `then`, so `await ctx.spawn(...)` gives the handle itself.
    return Object.freeze({
      id,
      workflow,
      result: () => handed(result()),
      status: () => handed(status()),
      signal: (name: string, payload?: unknown) => handed(signal(name, payload)),
      monitor: (options?: MonitorOptions) => handed(relations.relate("monitor", id, options)),
      link: (options?: LinkOptions) => handed(relations.relate("link", id, options)),
    }) as ChildHandle;
  }

  return (workflow, input, options) => {
    enter("ctx.spawn()");
    if (!isWorkflowDefinition(workflow)) {
      throw new VilanoError("validation_failed", "ctx.spawn() needs a workflow() definition as its first argument");
    }
    const { key, fresh } = spawnOptions(next, workflow.name, options);
    const inputJson = toOptionalJson(input, `the input of child workflow "${workflow.name}"`);
    const { op, recorded } = next("spawn", workflow.name, undefined);
    // One child per key (reuse); a fresh child per call otherwise, named by this spawn's op key.
    const id = childRunId(runId, { ...(key === undefined ? {} : { key }), opKey: op.opKey, fresh });
    // Recorded without waiting, like ctx.connect: the id is known, and a refusal (the key names
    // another workflow's child) surfaces when the handle is used.
    if (!recorded) state.post({ type: "spawn", opKey: op.opKey, seq: op.seq, name: workflow.name, childRunId: id, input: inputJson });
    return handle(id, workflow.name);
  };
}
