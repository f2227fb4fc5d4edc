/**
 * The cap on recorded values (VILANO_MAX_VALUE_BYTES): a step result, an output, a reply, state,
 * a payload or an input larger than it is refused with an error naming the op, before anything of
 * it is written — history that grows without bound makes every replay and inspect slower.
 */
import { toFailureBody, VilanoError, type FailureBody, type OpCommand } from "../shared/index.ts";

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

/** The values an op command would record, each with how an error names it. */
function valuesOf(cmd: OpCommand): [string | null, string][] {
  const op = `(op ${cmd.opKey})`;
  switch (cmd.type) {
    case "step_completed":
      return [[cmd.result, `the result of ${cmd.kind ?? "step"} "${cmd.name}" ${op}`]];
    case "record":
      return [[cmd.value, `the ${cmd.kind} value ${op}`]];
    case "send":
    case "ask":
      return [[cmd.payload, `the payload of ${cmd.name} ${op}`]];
    case "spawn":
      return [[cmd.input, `the input of child workflow "${cmd.name}" ${op}`]];
    case "supervised_spawn":
      return [[cmd.input, `the input of supervised workflow "${cmd.name}" ${op}`]];
    case "child_signal":
      return [[cmd.payload, `the payload of signal "${cmd.name}" ${op}`]];
    case "publish":
      return [[cmd.payload, `the payload published to "${cmd.topic}" ${op}`]];
    case "connect":
      return [[cmd.keyInput, `the key input of service "${cmd.name}" ${op}`]];
    default:
      return [];
  }
}

/** The failure of a command that carries a value over the limit, or null. */
export function valueTooLarge(cmd: OpCommand, limit: number): FailureBody | null {
  try {
    for (const [text, what] of valuesOf(cmd)) checkValueSize(text, limit, what);
    return null;
  } catch (error) {
    return { ...toFailureBody(error), retryable: false };
  }
}
