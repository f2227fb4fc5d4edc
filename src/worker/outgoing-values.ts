/**
 * What a message the worker could not send becomes (too large for the IPC serialiser, say): the
 * failure it causes, instead of a message lost and a run that waits for it forever.
 */
import { toFailureBody, UnsentReportError, VilanoError, type ActivationResult, type FailureBody, type OpCommand } from "../shared/index.ts";

/**
 * Why a report could not be sent. Marked as unsent (a step's result: that attempt fails, and the
 * step's policy may retry it — memory may allow it next time); `value_too_large` when the
 * transport ran out of room for it.
 */
export function unsentReport(cmd: OpCommand, error: unknown): UnsentReportError {
  return new UnsentReportError(codeOf(error), `the report of op ${cmd.opKey} (${cmd.type}) could not be sent to the daemon: ${sendFailure(error)}`, {
    retryable: true,
  });
}

/** The failure an activation's result becomes when the result itself could not be sent. */
export function unsentResult(result: ActivationResult, error: unknown): ActivationResult {
  const body: FailureBody = {
    ...toFailureBody(new VilanoError(codeOf(error), `the result of the activation (${result.type}) could not be sent to the daemon: ${sendFailure(error)}`)),
    retryable: false,
  };
  return isServiceResult(result) ? { type: "rejected", error: body } : { type: "failed", error: body };
}

function codeOf(error: unknown): "value_too_large" | "internal" {
  // JSC's "Out of memory" and "Invalid string length" are RangeErrors: the message was too large.
  return error instanceof RangeError ? "value_too_large" : "internal";
}

/** Why a send failed, in a line (the error's own text is read defensively). */
export function sendFailure(error: unknown): string {
  const body = toFailureBody(error);
  return `${body.name}: ${body.message}`;
}

function isServiceResult(result: ActivationResult): boolean {
  return result.type === "turn_completed" || result.type === "turn_failed" || result.type === "rejected" || result.type === "deferred";
}
