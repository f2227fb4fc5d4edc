/** Parses `--input` JSON, naming the flag in the error. */
import { VilanoError } from "../shared/index.ts";

export function parseInputFlag(value: string | undefined, flag = "--input"): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch (cause) {
    throw new VilanoError("validation_failed", `${flag} is not valid JSON: ${(cause as Error).message}`, { details: { flag, value } });
  }
}
