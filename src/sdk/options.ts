/** Checks shared by `workflow()` and `service()`: an option this SDK does not know is an error, not ignored. */
import { VilanoError } from "../shared/index.ts";

export function refuseUnknownOptions(where: string, options: object, known: readonly string[]): void {
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length === 0) return;
  const names = unknown.map((key) => JSON.stringify(key)).join(", ");
  throw new VilanoError(
    "validation_failed",
    `${where}: unknown option${unknown.length > 1 ? "s" : ""} ${names} (known: ${known.join(", ")})`,
    // The same options fail the same way on every attempt: no retry policy retries this.
    { details: { unknown, known }, retryable: false },
  );
}
