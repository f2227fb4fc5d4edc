/**
 * valibot schemas of values that cross process boundaries in several messages: JSON text, counts,
 * times, failure bodies and retry policies. Both ends check what arrives against them.
 */
import * as v from "valibot";
import { boundFailure, type FailureBody } from "./failure.ts";
import { MAX_IDENTIFIER_LENGTH } from "./name-limit.ts";

export const Json = v.nullable(v.string());
export const Count = v.pipe(v.number(), v.integer(), v.minValue(0));
export const Millis = v.pipe(v.number(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
/** A name, key, topic or run id in a message: bounded, since it is stored with its op (see name-limit.ts). */
export const Identifier = v.pipe(v.string(), v.maxLength(MAX_IDENTIFIER_LENGTH, `is longer than the limit of ${MAX_IDENTIFIER_LENGTH} characters for identifiers`));

/**
 * A failure as it arrives, cut to the sizes a failure is kept at (`boundFailure`): a worker that
 * does not use the SDK cannot have a name, message or details of any size stored.
 */
export const FailureBodySchema = v.pipe(
  v.object({
    name: v.string(),
    message: v.string(),
    code: v.optional(v.string()),
    family: v.picklist(["application", "timeout", "process_exit", "process_spawn"]),
    retryable: v.boolean(),
    reason: v.optional(v.string()),
    details: v.optional(v.unknown()),
  }),
  v.transform((body): FailureBody => boundFailure(body)),
);

const RetryFamily = v.picklist(["application", "timeout", "process_exit", "process_spawn", "always"]);
const Backoff = v.variant("kind", [
  v.object({ kind: v.literal("fixed"), delayMs: Millis, jitterRatio: v.number() }),
  v.object({ kind: v.literal("linear"), initialMs: Millis, stepMs: Millis, maxMs: v.nullable(Millis), jitterRatio: v.number() }),
  v.object({ kind: v.literal("exponential"), initialMs: Millis, factor: v.number(), maxMs: v.nullable(Millis), jitterRatio: v.number() }),
]);
export const RetryPolicySchema = v.object({ retries: Count, backoff: Backoff, on: v.pipe(v.array(RetryFamily), v.readonly()) });

/**
 * A variant that picks its option by the tag in one map lookup. valibot's `variant` tries the
 * options in turn and builds an issue for every tag that does not match (measured: 10 % of the
 * daemon's time under load). Same checks, same output and errors (an unknown tag falls back to the
 * plain variant, whose error lists what was expected); the types are the variant's.
 */
export function tagged<S extends v.VariantSchema<string, v.VariantOptions<string>, v.ErrorMessage<v.VariantIssue> | undefined>>(schema: S): S {
  const sharing = new Map<unknown, v.ObjectSchema<v.ObjectEntries, undefined>[]>();
  for (const option of schema.options) {
    const tag = (option as v.ObjectSchema<v.ObjectEntries, undefined>).entries[schema.key] as { literal?: unknown } | undefined;
    if (tag?.literal === undefined) continue; // not a literal tag: the whole variant judges it
    sharing.set(tag.literal, [...(sharing.get(tag.literal) ?? []), option as v.ObjectSchema<v.ObjectEntries, undefined>]);
  }
  // Options that share a tag (told apart by other fields, like a reply's `ok`) go to a variant of
  // those alone: the same checks and errors as the whole variant's, which would try only them too,
  // without first trying every other tag (a reply parsed in a worker: 0.65–0.89 → 0.41–0.52 µs, measured).
  const byTag = new Map<unknown, v.GenericSchema>();
  for (const [tag, options] of sharing) byTag.set(tag, options.length === 1 ? options[0]! : v.variant(schema.key, options));
  return v.lazy((input) => byTag.get((input as Record<string, unknown> | null)?.[schema.key]) ?? schema) as unknown as S;
}
