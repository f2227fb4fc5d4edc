/**
 * The `ctx` handed to workflow code and service turns. Every durable member resolves from history
 * by op key when the op is recorded, and otherwise reports to the kernel and waits for the commit
 * before returning. Service-only members throw `wrong_context` in a workflow.
 */
import {
  NondeterminismError,
  parseDuration,
  resolveRetryPolicy,
  SignalTimeoutError,
  StepFailedError,
  toFailureBody,
  toJson,
  toOptionalJson,
  VilanoError,
  type FailureBody,
  type HistoryOp,
} from "../shared/index.ts";
import type { LogFields, ServiceContext, StepControl, StepOptions } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { History, RequestedOp } from "./history.ts";
import type { ActivationHost } from "./host.ts";
import { createServiceCalls } from "./service-calls.ts";
import { runAttempt } from "./step-attempt.ts";
import { workflowTurnControls, type TurnControls } from "./turn-controls.ts";

export const parseStored = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

/** Assigns the next op its key and position; a mismatch with history ends the run (`nondeterminism`). */
export type NextOp = (kind: string, name: string, key: string | undefined) => ReturnType<History["next"]>;

/** Builds the context. Workflows get `workflowTurnControls` (service-only members that throw). */
export function createDurableContext(
  runId: string,
  history: History,
  host: ActivationHost,
  state: ActivationState,
  turn: TurnControls = workflowTurnControls,
): ServiceContext {
  const next: NextOp = (kind, name, key) => {
    if (key !== undefined && (typeof key !== "string" || key === "")) {
      throw new VilanoError("validation_failed", `op key must be a non-empty string, got ${JSON.stringify(key)}`);
    }
    try {
      return history.next(kind, name, key);
    } catch (error) {
      if (error instanceof NondeterminismError) {
        return state.failRun({ ...toFailureBody(error), retryable: false, details: error.details });
      }
      throw error;
    }
  };

  const requireName = (member: string, name: unknown): string => {
    if (typeof name !== "string" || name.trim() === "") {
      throw new VilanoError("validation_failed", `${member} needs a non-empty name, got ${JSON.stringify(name)}`);
    }
    return name;
  };

  async function executeStep(
    op: RequestedOp,
    fn: (step: StepControl) => unknown,
    attempt: number,
    timeoutMs: number | null,
    options: StepOptions | undefined,
  ): Promise<unknown> {
    const retry = resolveRetryPolicy(options?.retry);
    const outcome = await runAttempt(op.name, fn, attempt, timeoutMs, host.signal);
    // Record the outcome even if another branch suspended meanwhile (Promise.all with a sleep):
    // the lease is still ours, and recording now saves running the step again next activation.
    state.guardLease();
    let failure: FailureBody | undefined = outcome.ok ? undefined : outcome.error;
    if (outcome.ok) {
      let json: string | null = null;
      try {
        json = toOptionalJson(outcome.value, `the result of step "${op.name}"`);
      } catch (error) {
        failure = { ...toFailureBody(error), retryable: false };
      }
      if (!failure) {
        await state.report({ type: "step_completed", opKey: op.opKey, seq: op.seq, name: op.name, attempt, result: json });
        return parseStored(json);
      }
    }
    const error = failure!;
    const res = await state.report({ type: "step_failed", opKey: op.opKey, seq: op.seq, name: op.name, attempt, error, retry });
    if (res.outcome === "retry") state.suspend(`retry of step "${op.name}" scheduled`);
    throw new StepFailedError(op.name, error);
  }

  const record = (kind: "now" | "random", produce: () => number): number => {
    state.guard();
    const { op, recorded } = next(kind, kind, undefined);
    if (recorded?.status === "completed") return parseStored(recorded.result) as number;
    const value = produce();
    state.post({ type: "record", kind, opKey: op.opKey, seq: op.seq, name: op.name, value: JSON.stringify(value) });
    return value;
  };

  const suspendUnlessDone = (recorded: HistoryOp, what: string): void => {
    if (recorded.status !== "completed") state.suspend(what);
  };

  return {
    runId,
    ...createServiceCalls(next, state),
    mailbox: () => turn.mailbox(next),
    defer: (options) => turn.defer(options),
    reject: (options) => turn.reject(options),

    async step(name, fn, options) {
      state.guard();
      requireName("ctx.step", name);
      if (typeof fn !== "function") throw new VilanoError("validation_failed", `ctx.step("${name}") needs a function`);
      const timeoutMs = options?.timeout === undefined ? null : parseDuration(options.timeout, `timeout of step "${name}"`);
      resolveRetryPolicy(options?.retry); // validate before the op takes a position
      const { op, recorded } = next("step", name, options?.key);
      let attempt = 1;
      if (recorded) {
        if (recorded.status === "completed") return parseStored(recorded.result) as never;
        if (recorded.status === "failed") throw new StepFailedError(name, JSON.parse(recorded.error!) as FailureBody);
        if (recorded.status !== "retry_ready") state.suspend(`step "${name}" waits for its retry`);
        attempt = recorded.attempt + 1;
      }
      return state.track(executeStep(op, fn, attempt, timeoutMs, options)) as never;
    },

    async sleep(duration, options) {
      state.guard();
      const durationMs = parseDuration(duration, "sleep duration");
      const { op, recorded } = next("sleep", "sleep", options?.key);
      if (recorded) return suspendUnlessDone(recorded, "sleeping");
      await state.track(state.report({ type: "sleep", opKey: op.opKey, seq: op.seq, name: op.name, durationMs }));
      state.suspend("sleeping");
    },

    async waitForSignal(name, options) {
      state.guard();
      requireName("ctx.waitForSignal", name);
      const timeoutMs = options?.timeout === undefined ? null : parseDuration(options.timeout, `timeout of signal wait "${name}"`);
      const { op, recorded } = next("signal", name, options?.key);
      if (recorded) {
        if (recorded.status === "failed") throw new SignalTimeoutError(name, JSON.parse(recorded.error!) as FailureBody);
        suspendUnlessDone(recorded, `waiting for signal "${name}"`);
        return parseStored(recorded.result) as never;
      }
      const res = await state.track(state.report({ type: "wait_signal", opKey: op.opKey, seq: op.seq, name, timeoutMs }));
      if (res.outcome === "signal") return parseStored(res.payload) as never;
      return state.suspend(`waiting for signal "${name}"`);
    },

    log(message, fields?: LogFields) {
      // Logging after the activation ended is dropped rather than thrown: it is often in a catch.
      if (state.suspended || state.aborted || state.fatal) return;
      const text = String(message);
      const value = toJson(fields === undefined ? { message: text } : { message: text, fields }, "ctx.log fields");
      const { op, recorded } = next("log", "log", undefined);
      if (recorded) return;
      host.printLog(runId, text, fields);
      state.post({ type: "record", kind: "log", opKey: op.opKey, seq: op.seq, name: op.name, value });
    },

    now: () => record("now", () => host.now()),
    random: () => record("random", Math.random),
  };
}
