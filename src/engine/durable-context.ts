/**
 * The `ctx` handed to workflow code and service turns. Every durable member resolves from history
 * by op key when the op is recorded (in the order outcomes were first delivered), and otherwise
 * reports to the kernel and waits for the commit before returning. Waits hand back promises that
 * settle only in a later activation. Service-only members throw `wrong_context` in a workflow.
 */
import {
  NondeterminismError,
  parseDuration,
  SignalTimeoutError,
  StepFailedError,
  toFailureBody,
  toJson,
  toOptionalJson,
  VilanoError,
  type FailureBody,
  type ResolvedRetryPolicy,
  type OpKind,
} from "../shared/index.ts";
import type { AnyServiceDefinition, ExecSpec, LogFields, ServiceContext, StepControl, StepOptions } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { History, RequestedOp } from "./history.ts";
import { nameCheckOf, type NextOp } from "./next-op.ts";
import type { ActivationHost } from "./host.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { createServiceCalls } from "./service-calls.ts";
import { runAttempt } from "./step-attempt.ts";
import { handed, refuseInsideStep } from "./step-scope.ts";
import { workflowTurnControls, type TurnControls } from "./turn-controls.ts";

import { createChildren } from "./children.ts";
import { createRelations } from "./relations.ts";
import { createSupervision } from "./supervision.ts";
import { createPublish, singletonDefinition } from "./pubsub.ts";
import { createExec } from "./exec-op.ts";
import { parseStored, RETRY_LATER } from "./op-values.ts";
import { untilDue } from "./sleep-due.ts";
import { checkOptions } from "./options.ts";
import { RETRY_SHORTHAND, retryPolicyOf } from "./retry-options.ts";

/** What `ctx.step` may be given; anything else is refused by name rather than dropped. */
const STEP_OPTIONS = ["key", "timeout", "retry", ...RETRY_SHORTHAND];

export interface ContextParts {
  runId: string;
  /** The run's project ("" in an embedded runtime): service instances are per project. */
  project: string;
  history: History;
  scheduler: ReplayScheduler;
  host: ActivationHost;
  state: ActivationState;
  /** Service turns pass their inbox controls; workflows get members that throw. */
  turn?: TurnControls;
  /** The attempt of the message a service turn handles; 1 in a workflow. */
  turnAttempt?: number;
  /** The project's services, for `ctx.lookupSingleton`. */
  services?: ReadonlyMap<string, AnyServiceDefinition>;
}

export function createDurableContext(parts: ContextParts): ServiceContext {
  const { runId, history, scheduler, host, state } = parts;
  const turn = parts.turn ?? workflowTurnControls;

  /** The checks every durable member starts with. */
  const enter = (member: string) => {
    refuseInsideStep(member);
    state.guard();
  };

  const checkName = nameCheckOf(history);

  const requestOp = (kind: OpKind, name: string, key: string | undefined): ReturnType<History["next"]> => {
    if (key !== undefined && (typeof key !== "string" || key === "")) {
      throw new VilanoError("validation_failed", `op key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    // Members check their own names first, with their own wording; this covers every other op.
    if (key !== undefined) checkName(`the op key of the ${kind} op`, key);
    checkName(`the name of the ${kind} op`, name);
    try {
      return history.next(kind, name, key);
    } catch (error) {
      if (error instanceof NondeterminismError) {
        return state.failRun({ ...toFailureBody(error), retryable: false, details: error.details });
      }
      throw error;
    }
  };
  const next: NextOp = Object.assign(requestOp, { checkName });

  const requireName = (member: string, name: unknown): string => {
    if (typeof name !== "string" || name.trim() === "") {
      throw new VilanoError("validation_failed", `${member} needs a non-empty name, got ${JSON.stringify(name)}`);
    }
    checkName(`the name given to ${member}`, name);
    return name;
  };

  async function executeStep(op: RequestedOp, fn: (step: StepControl) => unknown, attempt: number, timeoutMs: number | null, retry: ResolvedRetryPolicy) {
    // Every attempt is announced, so a worker pool knows which steps run in a worker when it has to
    // hard-stop it (a timed one past its deadline), and whom else to suspect of blocking it.
    host.stepStarted?.({ opKey: op.opKey, seq: op.seq, name: op.name, attempt, timeoutMs, retry });
    const outcome = await runAttempt({ name: op.name, opKey: op.opKey }, fn, attempt, timeoutMs, host.signal);
    host.stepEnded?.(op.opKey, timeoutMs !== null);
    // Recorded even if another branch is waiting meanwhile: the lease is still ours.
    state.guard();
    let failure: FailureBody | undefined = outcome.ok ? undefined : outcome.error;
    if (outcome.ok) {
      let json: string | null = null;
      try {
        json = toOptionalJson(outcome.value, `the result of step "${op.name}"`);
      } catch (error) {
        failure = { ...toFailureBody(error), retryable: false };
      }
      if (!failure) {
        // A result the host would not or could not send (over the value cap, say) fails this
        // attempt like a result that is not JSON: the step's policy decides what comes next.
        const sent = await state.reportOrRefused({ type: "step_completed", opKey: op.opKey, seq: op.seq, name: op.name, attempt, result: json });
        if (!("refused" in sent)) return parseStored(json);
        failure = sent.refused;
      }
    }
    const error = failure!;
    const res = await state.report({ type: "step_failed", opKey: op.opKey, seq: op.seq, name: op.name, attempt, error, retry });
    if (res.outcome === "retry") return RETRY_LATER;
    throw new StepFailedError(op.name, error);
  }

  async function step(name: string, fn: (step: StepControl) => unknown, options?: StepOptions): Promise<unknown> {
    enter("ctx.step()");
    requireName("ctx.step", name);
    if (typeof fn !== "function") throw new VilanoError("validation_failed", `ctx.step("${name}") needs a function`);
    checkOptions(`ctx.step("${name}")`, options, STEP_OPTIONS);
    const timeoutMs = options?.timeout === undefined ? null : parseDuration(options.timeout, `timeout of step "${name}"`);
    const retry = retryPolicyOf(`ctx.step("${name}")`, options); // validated before the op takes a position
    const { op, recorded } = next("step", name, options?.key);
    let attempt = 1;
    if (recorded) {
      if (recorded.status === "completed" || recorded.status === "failed") {
        await scheduler.turn(recorded);
        if (recorded.status === "completed") return parseStored(recorded.result);
        throw new StepFailedError(name, JSON.parse(recorded.error!) as FailureBody);
      }
      if (recorded.status !== "retry_ready") return state.wait();
      attempt = recorded.attempt + 1;
    }
    const value = await state.track(executeStep(op, fn, attempt, timeoutMs, retry));
    // The wait starts outside the tracked work: a never-settling promise must not count as in flight.
    return value === RETRY_LATER ? state.wait() : value;
  }

  async function sleep(duration: unknown, options?: { key?: string }): Promise<void> {
    enter("ctx.sleep()");
    const durationMs = parseDuration(duration, "sleep duration");
    const { op, recorded } = next("sleep", "sleep", options?.key);
    if (recorded) {
      if (recorded.status === "completed") {
        await scheduler.turn(recorded);
        // The first time past it when nothing after it is recorded yet (not a replay of it).
        return untilDue(state, host, recorded.result, history.lastRecordedSeq === recorded.seq);
      }
      if (recorded.status !== "waiting") return state.wait();
    } else {
      // The duration runs from this call, not from the commit that records it.
      const calledAt = host.now();
      await state.track(state.report({ type: "sleep", opKey: op.opKey, seq: op.seq, name: op.name, durationMs, calledAt }));
    }
    // Settled only if a parked execution is resumed; otherwise the next activation replays.
    const fired = await state.waitFor(op.opKey, false);
    return untilDue(state, host, fired.status === "completed" ? fired.result : null, true);
  }

  async function waitForSignal(name: string, options?: { key?: string; timeout?: unknown }): Promise<unknown> {
    enter("ctx.waitForSignal()");
    requireName("ctx.waitForSignal", name);
    const timeoutMs = options?.timeout === undefined ? null : parseDuration(options.timeout, `timeout of signal wait "${name}"`);
    const { op, recorded } = next("signal", name, options?.key);
    if (recorded) {
      if (recorded.status === "completed" || recorded.status === "failed") {
        await scheduler.turn(recorded);
        if (recorded.status === "failed") throw new SignalTimeoutError(name, JSON.parse(recorded.error!) as FailureBody);
        return parseStored(recorded.result);
      }
      if (recorded.status !== "waiting") return state.wait();
    } else {
      const res = await state.track(state.report({ type: "wait_signal", opKey: op.opKey, seq: op.seq, name, timeoutMs }));
      if (res.outcome === "signal") return parseStored(res.payload);
    }
    // Settled only if a parked execution is resumed; otherwise the next activation replays.
    const outcome = await state.waitFor(op.opKey, false);
    if (outcome.status === "failed") throw new SignalTimeoutError(name, outcome.error);
    return parseStored(outcome.result);
  }

  const record = (kind: "now" | "random", produce: () => number): number => {
    enter(`ctx.${kind}()`);
    const { op, recorded } = next(kind, kind, undefined);
    if (recorded?.status === "completed") return parseStored(recorded.result) as number;
    const value = produce();
    state.post({ type: "record", kind, opKey: op.opKey, seq: op.seq, name: op.name, value: JSON.stringify(value) });
    return value;
  };

  const relations = createRelations(next, state, scheduler, enter);
  const serviceCalls = createServiceCalls(parts.project, next, state, scheduler, enter, relations);
  const exec = createExec({ runId, next, state, scheduler, host, enter });
  const spawn = createChildren(runId, next, state, scheduler, enter, relations);
  const supervise = createSupervision(next, state, scheduler, enter);
  const publish = createPublish(next, state, scheduler, enter);

  return {
    runId,
    get workspace() {
      // Not a durable op (allowed inside steps too): a path, made on first use.
      if (!host.exec) throw new VilanoError("wrong_context", "ctx.workspace is not available in this runtime");
      host.exec.ensureWorkspace?.();
      return host.exec.workspace;
    },
    turnAttempt: parts.turnAttempt ?? 1,
    step: ((name: string, fn: (step: StepControl) => unknown, options?: StepOptions) => handed(step(name, fn, options))) as ServiceContext["step"],
    sleep: (duration, options) => handed(sleep(duration, options)),
    waitForSignal: ((name: string, options?: { key?: string; timeout?: unknown }) => handed(waitForSignal(name, options))) as ServiceContext["waitForSignal"],
    connect: ((...args: Parameters<ServiceContext["connect"]>) => handed(serviceCalls.connect(...args))) as ServiceContext["connect"],
    lookup: ((service: Parameters<ServiceContext["lookup"]>[0], keyInput: unknown) =>
      handed(serviceCalls.connect(service, keyInput, { mustExist: true }))) as ServiceContext["lookup"],
    spawn: spawn as ServiceContext["spawn"],
    monitor: (target, options) => handed(relations.relate("monitor", target, options)),
    link: (target, options) => handed(relations.relate("link", target, options)),
    trapExit: (enabled) => relations.trapExit(enabled),
    nextExit: (options) => handed(relations.nextExit(options)),
    supervise,
    publish: (topic, payload, options) => handed(publish(topic, payload, options)),
    lookupSingleton: ((role: string, keyInput?: unknown) =>
      handed(
        (async () => {
          enter("ctx.lookupSingleton()");
          const definition = singletonDefinition(parts.services, role);
          // No key input (a singleton keyed by its role alone) travels as null.
          return serviceCalls.connect(definition, keyInput === undefined ? null : keyInput, { mustExist: true });
        })(),
      )) as ServiceContext["lookupSingleton"],
    subscribe: (topic, options) => {
      enter("ctx.subscribe()");
      return handed(turn.subscribe(topic, options));
    },
    unsubscribe: (topic, options) => {
      enter("ctx.unsubscribe()");
      return handed(turn.unsubscribe(topic, options));
    },
    exec: ((spec: ExecSpec<unknown>) => handed(exec(spec))) as ServiceContext["exec"],

    log(message, fields?: LogFields) {
      refuseInsideStep("ctx.log()");
      // Logging after the activation must stop is dropped rather than thrown: it is often in a catch.
      if (state.aborted || state.fatal || state.turnEnd) return;
      const text = String(message);
      const value = toJson(fields === undefined ? { message: text } : { message: text, fields }, "ctx.log fields");
      const { op, recorded } = next("log", "log", undefined);
      if (recorded) return;
      // Recorded first: a line over the value cap ends the run there and is never printed.
      state.post({ type: "record", kind: "log", opKey: op.opKey, seq: op.seq, name: op.name, value });
      if (!state.fatal) host.printLog(runId, text, fields);
    },
    now: () => record("now", () => host.now()),
    random: () => record("random", Math.random),
    mailbox: () => {
      enter("ctx.mailbox()");
      return turn.mailbox(next);
    },
    defer: (options) => {
      enter("ctx.defer()");
      return turn.defer(options);
    },
    reject: (options) => {
      enter("ctx.reject()");
      return turn.reject(options);
    },
  };
}
