/**
 * `ctx.supervise()`: a supervision group and its members. Creating the group and spawning a member
 * are recorded without waiting (like `ctx.spawn`); `result()`, `currentRunId()` and `members()` are
 * durable ops resolved from history on replay. The kernel restarts members (kernel/supervision.ts).
 */
import { ChildFailedError, parseDuration, toOptionalJson, VilanoError, type FailureBody, type HistoryOp } from "../shared/index.ts";
import {
  isWorkflowDefinition,
  type AnyWorkflowDefinition,
  type SupervisedHandle,
  type SupervisedMember,
  type SuperviseOptions,
  type SupervisionGroup,
} from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { handed } from "./step-scope.ts";
import { fromHistory, reportValue, reportWait, type ToError } from "./durable-wait.ts";
import { checkOptions } from "./options.ts";

const STRATEGIES = ["one_for_one", "one_for_all", "rest_for_one"] as const;
const OPTIONS = ["strategy", "maxRestarts", "window", "onExhausted", "key"];
/** Without options: up to 3 restarts within a minute. */
const DEFAULT_MAX_RESTARTS = 3;
const DEFAULT_WINDOW = "1m";
const MIN_WINDOW_MS = 1_000;
const MAX_RESTARTS = 10_000;

function superviseOptions(options: SuperviseOptions | undefined) {
  checkOptions("ctx.supervise()", options, OPTIONS);
  const o = options ?? {};
  const strategy = o.strategy ?? "one_for_one";
  if (!STRATEGIES.includes(strategy)) {
    throw new VilanoError("validation_failed", `ctx.supervise(): strategy must be one of ${STRATEGIES.join(", ")}, got ${JSON.stringify(o.strategy)}`);
  }
  const maxRestarts = o.maxRestarts ?? DEFAULT_MAX_RESTARTS;
  if (typeof maxRestarts !== "number" || !Number.isInteger(maxRestarts) || maxRestarts < 0) {
    throw new VilanoError("validation_failed", `ctx.supervise(): maxRestarts must be a whole number >= 0, got ${JSON.stringify(o.maxRestarts)}`);
  }
  if (maxRestarts > MAX_RESTARTS) {
    throw new VilanoError("validation_failed", `ctx.supervise(): maxRestarts must be at most ${MAX_RESTARTS}, got ${maxRestarts}`);
  }
  const windowMs = parseDuration(o.window ?? DEFAULT_WINDOW, "window of ctx.supervise()");
  // As in OTP (a period of whole seconds): a shorter window would let a failing member restart without end.
  if (windowMs < MIN_WINDOW_MS) {
    throw new VilanoError("validation_failed", `ctx.supervise(): window must be at least 1s, got ${JSON.stringify(o.window)}`);
  }
  if ((o.onExhausted ?? "fail_self") !== "fail_self") {
    throw new VilanoError("validation_failed", `ctx.supervise(): onExhausted must be "fail_self", got ${JSON.stringify(o.onExhausted)}`);
  }
  if (o.key !== undefined && (typeof o.key !== "string" || o.key === "")) {
    throw new VilanoError("validation_failed", `ctx.supervise(): key must be a non-empty string, got ${JSON.stringify(o.key)}`);
  }
  return { strategy, maxRestarts, windowMs, key: o.key };
}

export function createSupervision(
  next: NextOp,
  state: ActivationState,
  scheduler: ReplayScheduler,
  enter: (member: string) => void,
): (options?: SuperviseOptions) => SupervisionGroup {
  const recordedOutcome = (recorded: HistoryOp, onFailure: ToError) => fromHistory(state, scheduler, recorded, onFailure, recorded.kind === "member_result");
  const refused = (groupKey: string) => (error: FailureBody) => new VilanoError("not_found", error.message, { details: { groupKey, ...(error.details as object) } });

  function member(groupKey: string, memberKey: string, workflow: string): SupervisedHandle {
    const ids = { groupKey, memberKey };
    async function result(): Promise<unknown> {
      enter("member.result()");
      // Reached only when a member ends abnormally and is not restarted — when its group is
      // exhausted, which fails the owner in the same commit — so the code rarely sees it; the
      // error names the member (`<group>.<member>`), whose runs `currentRunId()` gives.
      const failed = (error: FailureBody) => new ChildFailedError(`${groupKey}.${memberKey}`, workflow, error);
      const { op, recorded } = next("member_result", workflow, undefined);
      if (recorded) return recordedOutcome(recorded, failed);
      return reportWait(state, { type: "wait_member", opKey: op.opKey, seq: op.seq, name: workflow, ...ids }, failed);
    }
    async function currentRunId(): Promise<string> {
      enter("member.currentRunId()");
      const { op, recorded } = next("member_run", workflow, undefined);
      if (recorded) return (await recordedOutcome(recorded, refused(groupKey))) as string;
      return (await reportValue(state, { type: "member_run", opKey: op.opKey, seq: op.seq, name: workflow, ...ids }, refused(groupKey))) as string;
    }
    return Object.freeze({ key: memberKey, workflow, result: () => handed(result()), currentRunId: () => handed(currentRunId()) }) as SupervisedHandle;
  }

  return (options) => {
    enter("ctx.supervise()");
    const { strategy, maxRestarts, windowMs, key } = superviseOptions(options);
    const { op, recorded } = next("supervise", "supervise", key);
    const groupKey = op.opKey;
    if (!recorded) state.post({ type: "supervise", opKey: op.opKey, seq: op.seq, name: op.name, strategy, maxRestarts, windowMs, onExhausted: "fail_self" });

    async function members(): Promise<SupervisedMember[]> {
      enter("group.members()");
      const { op: m, recorded: seen } = next("members", "members", undefined);
      if (seen) return (await recordedOutcome(seen, refused(groupKey))) as SupervisedMember[];
      return (await reportValue(state, { type: "supervision_members", opKey: m.opKey, seq: m.seq, name: m.name, groupKey }, refused(groupKey))) as SupervisedMember[];
    }

    return Object.freeze({
      spawn(workflow: AnyWorkflowDefinition, input: unknown, spawnOptions?: { key?: string }) {
        enter("group.spawn()");
        if (!isWorkflowDefinition(workflow)) throw new VilanoError("validation_failed", "group.spawn() needs a workflow() definition as its first argument");
        checkOptions(`group.spawn("${workflow.name}")`, spawnOptions, ["key"]);
        const memberKeyOption = spawnOptions?.key;
        if (memberKeyOption !== undefined && (typeof memberKeyOption !== "string" || memberKeyOption === "")) {
          throw new VilanoError("validation_failed", `group.spawn("${workflow.name}"): key must be a non-empty string, got ${JSON.stringify(memberKeyOption)}`);
        }
        if (memberKeyOption !== undefined) next.checkName(`the key given to group.spawn("${workflow.name}")`, memberKeyOption);
        const inputJson = toOptionalJson(input, `the input of supervised workflow "${workflow.name}"`);
        const { op: spawned, recorded: known } = next("member_spawn", workflow.name, undefined);
        const memberKey = memberKeyOption ?? spawned.opKey;
        if (!known) state.post({ type: "supervised_spawn", opKey: spawned.opKey, seq: spawned.seq, name: workflow.name, groupKey, memberKey, input: inputJson });
        return member(groupKey, memberKey, workflow.name);
      },
      members: () => handed(members()),
    }) as SupervisionGroup;
  };
}
