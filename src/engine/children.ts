/**
 * `ctx.spawn` and child handles. Spawning is recorded without waiting (the child's id is derived
 * from the parent's id and the child's key, so the handle exists at once); `result()`, `status()`
 * and `signal()` are durable ops of the parent, resolved from history on replay. A `result()` whose
 * child is still running waits, and takes the child's end live when the parent's code still runs.
 */
import { ChildFailedError, childRunId, toOptionalJson, VilanoError, type FailureBody, type HistoryOp, type RunStatus } from "../shared/index.ts";
import { isWorkflowDefinition, type AnyWorkflowDefinition, type ChildHandle, type LinkOptions, type MonitorOptions, type SpawnOptions } from "../sdk/index.ts";
import type { Relations } from "./relations.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./durable-context.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { handed } from "./step-scope.ts";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));
const SPAWN_OPTIONS = ["key", "policy"];

function checkOptions(workflow: string, options: SpawnOptions | undefined): { key: string | undefined; fresh: boolean } {
  if (options === undefined) return { key: undefined, fresh: false };
  if (typeof options !== "object" || options === null) {
    throw new VilanoError("validation_failed", `ctx.spawn("${workflow}") options must be an object { key?, policy? }`);
  }
  const unknown = Object.keys(options).filter((k) => !SPAWN_OPTIONS.includes(k));
  if (unknown.length > 0) {
    throw new VilanoError("validation_failed", `ctx.spawn("${workflow}"): unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: key, policy)`);
  }
  if (options.key !== undefined && (typeof options.key !== "string" || options.key === "")) {
    throw new VilanoError("validation_failed", `ctx.spawn("${workflow}"): key must be a non-empty string, got ${JSON.stringify(options.key)}`);
  }
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
  /** Resolves a recorded op in delivery order: its value, its stored failure, or a wait while it is open. */
  const fromHistory = async (recorded: HistoryOp, onFailure: (error: FailureBody) => Error): Promise<unknown> => {
    if (recorded.status !== "completed" && recorded.status !== "failed") return state.wait();
    await scheduler.turn(recorded);
    if (recorded.status === "completed") return parse(recorded.result);
    throw onFailure(JSON.parse(recorded.error!) as FailureBody);
  };

  function handle(id: string, workflow: string): ChildHandle {
    const failed = (error: FailureBody) => new ChildFailedError(id, workflow, error);

    async function result(): Promise<unknown> {
      enter("child.result()");
      const { op, recorded } = next("child_result", workflow, undefined);
      if (recorded) return fromHistory(recorded, failed);
      const res = await state.track(state.report({ type: "wait_child", opKey: op.opKey, seq: op.seq, name: workflow, childRunId: id }));
      if (res.outcome === "completed") return parse(res.result);
      if (res.outcome === "failed") throw failed(res.error);
      // The child may end while this code is still live: then it goes on without a replay.
      const outcome = await state.waitFor(op.opKey);
      if (outcome.status === "failed") throw failed(outcome.error);
      return parse(outcome.result);
    }

    async function status(): Promise<RunStatus> {
      enter("child.status()");
      const { op, recorded } = next("child_status", workflow, undefined);
      if (recorded) return (await fromHistory(recorded, failed)) as RunStatus;
      const res = await state.track(state.report({ type: "child_status", opKey: op.opKey, seq: op.seq, name: workflow, childRunId: id }));
      if (res.outcome === "failed") throw failed(res.error);
      return parse(res.outcome === "value" ? res.value : null) as RunStatus;
    }

    async function signal(name: string, payload: unknown): Promise<void> {
      enter("child.signal()");
      if (typeof name !== "string" || name.trim() === "") {
        throw new VilanoError("validation_failed", `child.signal() needs a non-empty signal name, got ${JSON.stringify(name)}`);
      }
      const json = toOptionalJson(payload, `the payload of signal "${name}"`);
      const { op, recorded } = next("child_signal", name, undefined);
      const refused = (error: FailureBody) => new ChildFailedError(id, workflow, error);
      if (recorded) {
        await fromHistory(recorded, refused);
        return;
      }
      const res = await state.track(state.report({ type: "child_signal", opKey: op.opKey, seq: op.seq, name, childRunId: id, payload: json }));
      if (res.outcome === "failed") throw refused(res.error);
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
    const { key, fresh } = checkOptions(workflow.name, options);
    const inputJson = toOptionalJson(input, `the input of child workflow "${workflow.name}"`);
    const { op, recorded } = next("spawn", workflow.name, undefined);
    // One child per key (reuse); a fresh child per call otherwise, named by this spawn's op key.
    const token = key === undefined ? op.opKey : fresh ? `${key}@${op.opKey}` : key;
    const id = childRunId(runId, token);
    // Recorded without waiting, like ctx.connect: the id is known, and a refusal (the key names
    // another workflow's child) surfaces when the handle is used.
    if (!recorded) state.post({ type: "spawn", opKey: op.opKey, seq: op.seq, name: workflow.name, childRunId: id, input: inputJson });
    return handle(id, workflow.name);
  };
}
