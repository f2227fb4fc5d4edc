/**
 * The error classes of Vilano. One base class, `VilanoError`, with a readable `code` from the
 * code table; subclasses exist only where user code wants to tell a case apart by name.
 * Checks across SDK copies must use `code`/`name`, never `instanceof`.
 */
import { ERROR_CODES, type ErrorCode } from "./error-codes.ts";
import type { FailureBody, FailureFamily } from "./failure.ts";

export interface VilanoErrorOptions {
  details?: unknown;
  cause?: unknown;
  hint?: string;
  /** `false` when trying again cannot help (the same call fails the same way): no retry policy retries it. */
  retryable?: boolean;
}

export class VilanoError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** A short suggestion the CLI prints under the message. */
  readonly hint?: string;
  /** Set to false for errors no retry can fix; read by `toFailureBody`. */
  readonly retryable?: boolean;

  constructor(code: ErrorCode, message: string, options: VilanoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "VilanoError";
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.retryable !== undefined) this.retryable = options.retryable;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * A run that is not in the database, asked for by id: one message and code wherever it is refused
 * (the API, the CLI and the tests read both).
 */
export function runNotFound(runId: string): VilanoError {
  return new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
}

/** Thrown by `nonRetryable()`: no retry policy ever retries it. */
export class NonRetryableError extends Error {
  readonly retryable = false;
  readonly code: string;
  readonly details?: unknown;

  constructor(message: string, options: { cause?: unknown; code?: string; details?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "NonRetryableError";
    this.code = options.code ?? "non_retryable";
    if (options.details !== undefined) this.details = options.details;
  }
}

/**
 * Thrown by a host for a report it would not or could not send (its value over the cap, a send
 * that failed): nothing of it reached the kernel, so the engine fails the step's attempt with it
 * rather than the run. Told apart by the `unsent` mark, never by `instanceof`.
 */
export class UnsentReportError extends VilanoError {
  readonly unsent = true;
}

export function isUnsentReport(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { unsent?: unknown }).unsent === true;
}

/**
 * Thrown in the workflow by a failed durable op (a step that failed for good, a timed-out signal
 * wait) or by `result()` of a failed run. `cause` is the serialisable failure body.
 */
export class DurableError extends VilanoError {
  override readonly cause: FailureBody;
  readonly family: FailureFamily;
  override readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, body: FailureBody, identity: Record<string, string> = {}) {
    super(code, message, { details: identity });
    this.name = "DurableError";
    this.cause = body;
    this.family = body.family;
    this.retryable = body.retryable;
    Object.assign(this, identity);
  }
}

/** A step failed for good: its attempts were exhausted or its error was not retryable. */
export class StepFailedError extends DurableError {
  readonly stepName: string;
  constructor(stepName: string, body: FailureBody) {
    super("step_failed", `step "${stepName}" failed: ${body.message}`, body, { stepName });
    this.name = "StepFailedError";
    this.stepName = stepName;
  }
}

/** A `ctx.exec` subprocess failed for good (exit code, failure to start, timeout) after its retries. */
export class ExecFailedError extends DurableError {
  readonly execName: string;
  constructor(execName: string, body: FailureBody) {
    super("exec_failed", `exec "${execName}" failed: ${body.message}`, body, { execName });
    this.name = "ExecFailedError";
    this.execName = execName;
  }
}

/** `handle.result()` of a child that failed or was cancelled. `cause` is the child's error body. */
export class ChildFailedError extends DurableError {
  readonly childRunId: string;
  readonly workflow: string;
  constructor(childRunId: string, workflow: string, body: FailureBody) {
    const how = body.code === "cancelled" ? "was cancelled" : "failed";
    super("child_failed", `child workflow "${workflow}" (${childRunId}) ${how}: ${body.message}`, body, { childRunId, workflow });
    this.name = "ChildFailedError";
    this.childRunId = childRunId;
    this.workflow = workflow;
  }
}

/** `ctx.waitForSignal(name, { timeout })` ran past its timeout before the signal arrived. */
export class SignalTimeoutError extends DurableError {
  readonly signalName: string;
  constructor(signalName: string, body: FailureBody) {
    super("signal_timeout", body.message, body, { signalName });
    this.name = "SignalTimeoutError";
    this.signalName = signalName;
  }
}

/** The run's code asked for a different op than its history recorded at the same place. */
export class NondeterminismError extends VilanoError {
  constructor(message: string, details: { opKey: string; recorded: string; requested: string }) {
    super("nondeterminism", message, { details });
    this.name = "NondeterminismError";
  }
}

/** `result()` of a run that failed or was cancelled. `cause` is the run's failure body. */
export class RunFailedError extends DurableError {
  readonly runId: string;
  constructor(runId: string, body: FailureBody) {
    const code = body.code === "cancelled" ? "cancelled" : "run_failed";
    super(code, `run ${runId} ${code === "cancelled" ? "was cancelled" : "failed"}: ${body.message}`, body, { runId });
    this.name = code === "cancelled" ? "CancelledError" : "RunFailedError";
    this.runId = runId;
  }
}

const SERVICE_CODES = new Set(["service_overloaded", "service_stopped", "ask_timeout", "service_turn_rejected", "not_found", "cancelled"]);

/**
 * A send, ask, signal or connect to a service failed. `cause` is the failure body; `code` is the
 * kernel's reason (`service_overloaded`, `service_stopped`, `ask_timeout`, `service_turn_rejected`)
 * or `service_call_failed` when the handler itself failed. A rejection's message is the one given
 * to `ctx.reject`; the others name the call and the instance.
 */
export class ServiceCallError extends DurableError {
  readonly serviceRunId: string;
  readonly messageName: string;
  constructor(serviceRunId: string, messageName: string, body: FailureBody) {
    const code = body.code && SERVICE_CODES.has(body.code) ? (body.code as ErrorCode) : "service_call_failed";
    // A rejection is the service's own answer to the caller (`ctx.reject`), so it arrives as written,
    // as Restate's TerminalError does; other failures say which call on which instance failed.
    const message = body.code === "service_turn_rejected" ? body.message : `${messageName} on ${serviceRunId} failed: ${body.message}`;
    super(code, message, body, { serviceRunId, messageName });
    this.name = "ServiceCallError";
    this.serviceRunId = serviceRunId;
    this.messageName = messageName;
  }
}

/** Reads a code off anything thrown, without trusting its class. */
export function errorCodeOf(thrown: unknown): string | undefined {
  if (thrown && typeof thrown === "object" && "code" in thrown) {
    const code = (thrown as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
