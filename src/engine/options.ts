/** Checks the options object a `ctx` member was given: an object, with no option it does not know. */
import { refuseUnknownOptions } from "../sdk/options.ts";
import { VilanoError } from "../shared/index.ts";

export function checkOptions(member: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new VilanoError("validation_failed", `${member} options must be an object { ${known.map((k) => `${k}?`).join(", ")} }, got ${JSON.stringify(options)}`);
  }
  refuseUnknownOptions(member, options, known);
}
