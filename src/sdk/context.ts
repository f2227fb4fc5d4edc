/**
 * The types of `ctx` as workflow code sees it. The engine implements them; user code only sees
 * these shapes, so they are the public contract of the authoring SDK.
 */
import type { Duration, RetryOptions } from "../shared/index.ts";

/** Handed to a step's function: cooperative control for long or cancellable work. */
export interface StepControl {
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the step's timeout passes or the run is cancelled. */
  readonly signal: AbortSignal;
  /** Throws when the signal is aborted; call it between chunks of work. */
  checkCancelled(): void;
  /** Lets the event loop run (timers, I/O, the timeout itself), then checks for cancellation. */
  yield(): Promise<void>;
}

export interface StepOptions {
  /** Op key to use instead of the implicit `step:<name>:<n>`. */
  key?: string;
  /** The step fails with family `timeout` when an attempt runs longer than this. */
  timeout?: Duration;
  /** Retry policy for failed attempts; without one a failed step is not retried. */
  retry?: RetryOptions;
}

export interface SleepOptions {
  key?: string;
}

export interface WaitForSignalOptions {
  key?: string;
  /** Throw `SignalTimeoutError` when no signal arrives within this duration. */
  timeout?: Duration;
}

export type LogFields = Record<string, unknown>;

/** The durable context of a workflow run. */
export interface WorkflowContext {
  /** Id of this run. */
  readonly runId: string;
  /**
   * Runs `fn` once and records its result; on replay the recorded result is returned without
   * calling `fn`. The result must be plain JSON.
   * @example const user = await ctx.step("load-user", () => db.users.get(id));
   */
  step<T>(name: string, fn: (step: StepControl) => T | Promise<T>, options?: StepOptions): Promise<T>;
  /**
   * A durable timer: survives restarts of everything.
   * @example await ctx.sleep("5m");
   */
  sleep(duration: Duration, options?: SleepOptions): Promise<void>;
  /**
   * Waits durably for a run signal and returns its payload. A signal sent before the wait is
   * buffered and consumed at once.
   * @example const approval = await ctx.waitForSignal<{ by: string }>("approved", { timeout: "1d" });
   */
  waitForSignal<T = unknown>(name: string, options?: WaitForSignalOptions): Promise<T>;
  /** A log line recorded in the run's history; printed live, silent on replay. */
  log(message: string, fields?: LogFields): void;
  /** The current time in ms, recorded on first call and replayed afterwards. */
  now(): number;
  /** A random number in [0, 1), recorded on first call and replayed afterwards. */
  random(): number;
}
