/**
 * The cap on recorded values (VILANO_MAX_VALUE_BYTES): a step result, an output, a reply, state,
 * a payload or an input larger than it is refused with an error naming the op, before anything of
 * it is written — history that grows without bound makes every replay and inspect slower.
 * A worker process checks the same values with the same functions before it sends them, so an
 * over-cap value never crosses to the daemon; the kernel's check stays for every other way in.
 */
import { UnsentReportError, VilanoError } from "./errors.ts";
import { boundFailure, cutLabel, toFailureBody, type FailureBody } from "./failure.ts";
import { recordedValues, type OpCommand } from "./op-commands.ts";
import type { ActivationResult } from "./protocol.ts";
import { isService } from "./run-kinds.ts";

/** Throws `value_too_large` when `text` (JSON) is over `limit` bytes. */
export function checkValueSize(text: string | null | undefined, limit: number, what: string): void {
  // A UTF-16 length times 3 bounds the UTF-8 size: most values need no byte count at all.
  if (text === null || text === undefined || text.length * 3 <= limit) return;
  const bytes = Buffer.byteLength(text);
  if (bytes <= limit) return;
  throw new VilanoError("value_too_large", `${what} is ${bytes} bytes, more than the limit of ${limit} bytes (VILANO_MAX_VALUE_BYTES)`, {
    details: { bytes, limit },
  });
}

/** Throws `value_too_large` for the first value `cmd` carries over `limit`. */
export function checkCommandValues(cmd: OpCommand, limit: number): void {
  for (const [text, what] of recordedValues(cmd)) checkValueSize(text, limit, what);
}

/**
 * For a host about to report `cmd`: the same refusal, marked as never sent, so the engine fails a
 * step's attempt with it (a result over the cap is like one that is not JSON) instead of the run.
 */
export function refuseOverCap(cmd: OpCommand, limit: number): void {
  if (limit === Number.POSITIVE_INFINITY) return;
  try {
    checkCommandValues(cmd, limit);
  } catch (error) {
    if (!(error instanceof VilanoError)) throw error;
    throw new UnsentReportError(error.code, error.message, { details: error.details, retryable: false });
  }
}

/** The failure of a command that carries a value over the limit, or null. */
export function valueTooLarge(cmd: OpCommand, limit: number): FailureBody | null {
  try {
    checkCommandValues(cmd, limit);
    return null;
  } catch (error) {
    return { ...toFailureBody(error), retryable: false };
  }
}

/** A command as it is sent: a failed attempt's failure cut to the sizes failures are kept at. */
export function withBoundedFailure(cmd: OpCommand): OpCommand {
  return cmd.type === "step_failed" ? { ...cmd, error: boundFailure(cmd.error) } : cmd;
}

/**
 * An output, reply or state over the limit: the result becomes the failure of the run (a turn: of
 * its message). A failure it carries (`ctx.reject`'s message and details, say) is cut to the sizes
 * failures are kept at, and a deferral's reason to a label.
 */
export function resultWithinLimit(reported: ActivationResult, limit: number, run: { name: string; kind: string }): ActivationResult {
  const result = boundedFailures(reported);
  try {
    if (result.type === "completed") checkValueSize(result.output, limit, `the output of workflow "${run.name}"`);
    if (result.type === "turn_completed") {
      checkValueSize(result.reply, limit, `the reply of a turn of service "${run.name}"`);
      checkValueSize(result.state, limit, `the state returned by a turn of service "${run.name}"`);
    }
    return result;
  } catch (error) {
    const body = { ...toFailureBody(error), retryable: false };
    return isService(run) ? { type: "rejected", error: body } : { type: "failed", error: body };
  }
}

function boundedFailures(result: ActivationResult): ActivationResult {
  if ("error" in result) return { ...result, error: boundFailure(result.error) };
  if (result.type === "deferred" && result.reason !== undefined) return { ...result, reason: cutLabel(result.reason) };
  return result;
}
