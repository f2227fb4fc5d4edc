/**
 * Retry policies: the shape users write, its normalised form, the backoff formula and the retry
 * decision. All pure, so the kernel can record every decision and tests can recompute delays.
 */
import { parseDuration, type Duration } from "./duration.ts";
import { VilanoError } from "./errors.ts";
import { FAILURE_FAMILIES, type FailureBody, type FailureFamily } from "./failure.ts";
import { unitFromText } from "./ids.ts";
import * as v from "valibot";

export type RetryFamily = FailureFamily | "always";
/** `"full"` = ratio 1, `"half"` = ratio 0.5, or a ratio of your own: `{ ratio }` or `{ kind: "ratio", ratio }`. */
export type Jitter = "full" | "half" | { ratio: number } | { kind: "ratio"; ratio: number };

export type Backoff =
  | Duration
  | { kind: "fixed"; delay: Duration; jitter?: Jitter }
  | { kind: "linear"; initial: Duration; step?: Duration; max?: Duration; jitter?: Jitter }
  | { kind: "exponential"; initial: Duration; factor?: number; max?: Duration; jitter?: Jitter };

/** What users write: `{ retries: 2, backoff: { kind: "exponential", initial: "50ms" }, on: ["timeout"] }`. */
export interface RetryOptions {
  /** Extra attempts after the first; 0 means none. */
  retries: number;
  backoff?: Backoff;
  /** Failure families that may be retried; default all. */
  on?: readonly RetryFamily[];
}

export type ResolvedBackoff =
  | { kind: "fixed"; delayMs: number; jitterRatio: number }
  | { kind: "linear"; initialMs: number; stepMs: number; maxMs: number | null; jitterRatio: number }
  | { kind: "exponential"; initialMs: number; factor: number; maxMs: number | null; jitterRatio: number };

export interface ResolvedRetryPolicy {
  retries: number;
  backoff: ResolvedBackoff;
  on: readonly RetryFamily[];
}

/** Without a policy nothing is retried (see docs/decisions.md). */
export const NO_RETRY: ResolvedRetryPolicy = Object.freeze({
  retries: 0,
  backoff: { kind: "fixed", delayMs: 0, jitterRatio: 0 },
  on: ["always"],
}) as ResolvedRetryPolicy;

const DEFAULT_BACKOFF_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 7 * 86_400_000;

/**
 * The policy's schema: valibot checks the shape and names the field in each message; durations are
 * parsed (and bounded) by `parseDuration`, whose error shows the bad value.
 */
const show = (value: unknown) => JSON.stringify(value) ?? String(value);
const durationField = <T>(what: string) =>
  v.rawTransform<T, number>(({ dataset, addIssue, NEVER }) => {
    try {
      return parseDuration(dataset.value, what);
    } catch (error) {
      addIssue({ message: (error as Error).message });
      return NEVER;
    }
  });
const optionalDuration = (what: string) => v.optional(v.pipe(v.unknown(), durationField(what)));
const JitterRatio = v.pipe(v.number(), v.minValue(0), v.maxValue(1));
const JitterSchema = v.optional(
  v.union(
    [
      v.pipe(v.literal("full"), v.transform(() => 1)),
      v.pipe(v.literal("half"), v.transform(() => 0.5)),
      v.pipe(v.strictObject({ ratio: JitterRatio }), v.transform((j) => j.ratio)),
      // The reference SDK's spelling of the same thing.
      v.pipe(v.strictObject({ kind: v.literal("ratio"), ratio: JitterRatio }), v.transform((j) => j.ratio)),
    ],
    (issue) => `jitter must be "full", "half", { ratio } or { kind: "ratio", ratio } with 0 <= ratio <= 1, got ${show(issue.input)}`,
  ),
);
/** A missing key is named; any other issue keeps its own message. */
const missingKey = (where: string) => (issue: { expected: string | null; received: string; input: unknown; message: string }) =>
  issue.received === "undefined" && issue.expected?.startsWith('"') ? `${where} needs ${issue.expected.slice(1, -1)}` : issue.message;
const BackoffObjectSchema = v.variant(
  "kind",
  [
    v.looseObject({ kind: v.literal("fixed"), delay: v.pipe(v.unknown(), durationField("retry backoff delay")), jitter: JitterSchema }, missingKey("a fixed backoff")),
    v.looseObject({
      kind: v.literal("linear"),
      initial: v.pipe(v.unknown(), durationField("retry backoff initial")),
      step: optionalDuration("retry backoff step"),
      max: optionalDuration("retry backoff max"),
      jitter: JitterSchema,
    }, missingKey("a linear backoff")),
    v.looseObject({
      kind: v.literal("exponential"),
      initial: v.pipe(v.unknown(), durationField("retry backoff initial")),
      factor: v.nullish(v.pipe(v.number((i) => `exponential factor must be a number >= 1, got ${show(i.input)}`), v.finite((i) => `exponential factor must be a number >= 1, got ${show(i.input)}`), v.minValue(1, (i) => `exponential factor must be a number >= 1, got ${show(i.input)}`))),
      max: optionalDuration("retry backoff max"),
      jitter: JitterSchema,
    }, missingKey("an exponential backoff")),
  ],
  (issue) => `backoff kind must be "fixed", "linear" or "exponential", got ${show(issue.input)}`,
);
const ScalarBackoffSchema = v.pipe(
  v.union([v.string(), v.number()], (i) => `backoff must be a duration or an object, got ${show(i.input)}`),
  durationField<string | number>("retry backoff"),
);
const RetryOptionsSchema = v.looseObject(
  {
    retries: v.pipe(
      v.number((i) => `retries must be a whole number >= 0, got ${show(i.input)}`),
      v.integer((i) => `retries must be a whole number >= 0, got ${show(i.input)}`),
      v.minValue(0, (i) => `retries must be a whole number >= 0, got ${show(i.input)}`),
    ),
    // An object is read by its kind (so its own errors show); anything else must be a duration.
    backoff: v.optional(v.lazy((input) => (typeof input === "object" && input !== null ? BackoffObjectSchema : ScalarBackoffSchema))),
    on: v.nullish(
      v.pipe(
        v.array(
          v.picklist([...FAILURE_FAMILIES, "always"], (i) => `unknown failure family ${show(i.input)} in on; use ${[...FAILURE_FAMILIES, "always"].join(", ")}`),
          (i) => `on must be a list of failure families, got ${show(i.input)}`,
        ),
        v.minLength(1, "on must be a non-empty list of failure families"),
      ),
    ),
  },
  (issue) =>
    issue.expected === "Object"
      ? `expected an object, got ${show(issue.input)}`
      : issue.received === "undefined" && issue.expected?.startsWith('"')
        ? `retries must be a whole number >= 0, got undefined`
        : issue.message,
);

/** The backoff as the schema leaves it: durations in ms, jitter as a ratio. */
type ParsedBackoff =
  | number
  | { kind: "fixed"; delay: number; jitter?: number }
  | { kind: "linear"; initial: number; step?: number; max?: number; jitter?: number }
  | { kind: "exponential"; initial: number; factor?: number; max?: number; jitter?: number };

function resolveBackoff(backoff: ParsedBackoff | undefined): ResolvedBackoff {
  if (backoff === undefined) return { kind: "fixed", delayMs: DEFAULT_BACKOFF_MS, jitterRatio: 0 };
  if (typeof backoff === "number") return { kind: "fixed", delayMs: backoff, jitterRatio: 0 };
  const jitterRatio = backoff.jitter ?? 0;
  switch (backoff.kind) {
    case "fixed":
      return { kind: "fixed", delayMs: backoff.delay, jitterRatio };
    case "linear":
      return { kind: "linear", initialMs: backoff.initial, stepMs: backoff.step ?? backoff.initial, maxMs: backoff.max ?? null, jitterRatio };
    case "exponential":
      return { kind: "exponential", initialMs: backoff.initial, factor: backoff.factor ?? 2, maxMs: backoff.max ?? null, jitterRatio };
  }
}

/** Normalises a user policy once, at the edge. */
export function resolveRetryPolicy(options: RetryOptions | undefined): ResolvedRetryPolicy {
  if (options === undefined) return NO_RETRY;
  const parsed = v.safeParse(RetryOptionsSchema, options);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".");
    // The same policy fails the same way on every attempt: retrying would only repeat this error.
    throw new VilanoError("validation_failed", `invalid retry policy: ${issue.message}`, { details: { ...(path ? { path } : {}) }, retryable: false });
  }
  const policy = parsed.output as { retries: number; backoff?: ParsedBackoff; on?: RetryFamily[] };
  return { retries: policy.retries, backoff: resolveBackoff(policy.backoff), on: [...(policy.on ?? ["always"])] };
}

/**
 * The delay before retrying after failed attempt `attempt` (1 = the first attempt).
 * Jitter removes up to `ratio` of the delay, chosen deterministically from `seed`
 * (run id, op key and attempt), so a replay computes the same delay.
 */
export function computeBackoff(backoff: ResolvedBackoff, attempt: number, seed: string): number {
  let base: number;
  switch (backoff.kind) {
    case "fixed":
      base = backoff.delayMs;
      break;
    case "linear":
      base = backoff.initialMs + backoff.stepMs * (attempt - 1);
      if (backoff.maxMs !== null) base = Math.min(base, backoff.maxMs);
      break;
    case "exponential":
      base = backoff.initialMs * backoff.factor ** (attempt - 1);
      if (backoff.maxMs !== null) base = Math.min(base, backoff.maxMs);
      break;
  }
  // Without a `max`, exponential growth would reach Infinity; no retry waits longer than this.
  base = Math.min(base, MAX_RETRY_DELAY_MS);
  if (backoff.jitterRatio === 0) return Math.round(base);
  const u = unitFromText(`${seed}#${attempt}`);
  return Math.round(base * (1 - backoff.jitterRatio * u));
}

export const RETRY_DECISIONS = [
  "scheduled",
  "non_retryable",
  "family_not_selected",
  "retries_disabled",
  "attempts_exhausted",
] as const;
export type RetryDecisionKind = (typeof RETRY_DECISIONS)[number];

export interface RetryDecision {
  decision: RetryDecisionKind;
  /** Present when a retry is scheduled. */
  delayMs?: number;
  /** The attempt that just failed. */
  attempt: number;
  maxAttempts: number;
}

/** Decides what happens after attempt `attempt` failed with `failure`. */
export function decideRetry(policy: ResolvedRetryPolicy, failure: FailureBody, attempt: number, seed: string): RetryDecision {
  const maxAttempts = policy.retries + 1;
  const base = { attempt, maxAttempts };
  if (!failure.retryable) return { decision: "non_retryable", ...base };
  if (policy.retries === 0) return { decision: "retries_disabled", ...base };
  if (!policy.on.includes("always") && !policy.on.includes(failure.family)) return { decision: "family_not_selected", ...base };
  if (attempt >= maxAttempts) return { decision: "attempts_exhausted", ...base };
  return { decision: "scheduled", delayMs: computeBackoff(policy.backoff, attempt, seed), ...base };
}
