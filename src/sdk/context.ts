/**
 * The types of `ctx` as workflow code sees it. The engine implements them; user code only sees
 * these shapes, so they are the public contract of the authoring SDK.
 */
import type { Duration, MailboxView, RetryOptions } from "../shared/index.ts";
import type { AnyServiceDefinition, ConnectOptions, ServiceKeyInput, ServiceRef } from "./service.ts";

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

/** The durable context shared by workflow runs and service turns. */
export interface DurableContext {
  /** Id of this run (workflow run or service instance). */
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
  /**
   * Creates (or finds) the service instance for `service.key(keyInput)` and returns a typed ref.
   * @example
   * const ref = await ctx.connect(reviewer, { repoId: "repo_123" });
   * await ref.send.hint({ note: "Ship 0.1" });
   * const status = await ref.ask.status();
   */
  connect<D extends AnyServiceDefinition>(service: D, keyInput: ServiceKeyInput<D>, options?: ConnectOptions): Promise<ServiceRef<D>>;
}

/** The durable context of a workflow run. */
export interface WorkflowContext extends DurableContext {}

/** What `ctx.mailbox()` shows inside a service turn. */
export type MailboxSnapshot = MailboxView;

export interface DeferOptions {
  /** When the message becomes due again. */
  delay: Duration;
  reason?: string;
}

export interface RejectOptions {
  message: string;
  reason?: string;
  details?: unknown;
}

/** The durable context of a service turn: the workflow members plus the inbox controls. */
export interface ServiceContext extends DurableContext {
  /** The current message and what is queued behind it (as of the start of this turn). */
  mailbox(): MailboxSnapshot;
  /** Puts the current message back, due after `delay` (its attempt goes up); ends the turn. */
  defer(options: DeferOptions): never;
  /** Fails the current message without retry; an asking caller gets `service_turn_rejected`. Ends the turn. */
  reject(options: RejectOptions): never;
}
