/**
 * Retry policies: the shape users write, its normalised form, the backoff formula and the retry
 * decision. All pure, so the kernel can record every decision and tests can recompute delays.
 */
import { parseDuration, type Duration } from "./duration.ts";
import { VilanoError } from "./errors.ts";
import { FAILURE_FAMILIES, type FailureBody, type FailureFamily } from "./failure.ts";
import { unitFromText } from "./ids.ts";

export type RetryFamily = FailureFamily | "always";
export type Jitter = "full" | "half" | { ratio: number };

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

function bad(message: string, details?: unknown): VilanoError {
  return new VilanoError("validation_failed", `invalid retry policy: ${message}`, { details });
}

function resolveJitter(jitter: Jitter | undefined): number {
  if (jitter === undefined) return 0;
  if (jitter === "full") return 1;
  if (jitter === "half") return 0.5;
  if (typeof jitter === "object" && jitter !== null && typeof jitter.ratio === "number" && jitter.ratio >= 0 && jitter.ratio <= 1) {
    return jitter.ratio;
  }
  throw bad(`jitter must be "full", "half" or { ratio } with 0 <= ratio <= 1, got ${JSON.stringify(jitter)}`);
}

function resolveBackoff(backoff: Backoff | undefined): ResolvedBackoff {
  if (backoff === undefined) return { kind: "fixed", delayMs: DEFAULT_BACKOFF_MS, jitterRatio: 0 };
  if (typeof backoff === "string" || typeof backoff === "number") {
    return { kind: "fixed", delayMs: parseDuration(backoff, "retry backoff"), jitterRatio: 0 };
  }
  if (typeof backoff !== "object" || backoff === null) throw bad(`backoff must be a duration or an object, got ${String(backoff)}`);
  const jitterRatio = resolveJitter(backoff.jitter);
  const optionalMs = (d: Duration | undefined, what: string) => (d === undefined ? null : parseDuration(d, what));
  switch (backoff.kind) {
    case "fixed":
      return { kind: "fixed", delayMs: parseDuration(backoff.delay, "retry backoff delay"), jitterRatio };
    case "linear": {
      const initialMs = parseDuration(backoff.initial, "retry backoff initial");
      const stepMs = backoff.step === undefined ? initialMs : parseDuration(backoff.step, "retry backoff step");
      return { kind: "linear", initialMs, stepMs, maxMs: optionalMs(backoff.max, "retry backoff max"), jitterRatio };
    }
    case "exponential": {
      const factor = backoff.factor ?? 2;
      if (typeof factor !== "number" || !Number.isFinite(factor) || factor < 1) {
        throw bad(`exponential factor must be a number >= 1, got ${String(factor)}`);
      }
      const initialMs = parseDuration(backoff.initial, "retry backoff initial");
      return { kind: "exponential", initialMs, factor, maxMs: optionalMs(backoff.max, "retry backoff max"), jitterRatio };
    }
    default:
      throw bad(`backoff kind must be "fixed", "linear" or "exponential", got ${JSON.stringify((backoff as { kind?: unknown }).kind)}`);
  }
}

/** Normalises a user policy once, at the edge. */
export function resolveRetryPolicy(options: RetryOptions | undefined): ResolvedRetryPolicy {
  if (options === undefined) return NO_RETRY;
  if (typeof options !== "object" || options === null) throw bad(`expected an object, got ${String(options)}`);
  const { retries } = options;
  if (typeof retries !== "number" || !Number.isInteger(retries) || retries < 0) {
    throw bad(`retries must be a whole number >= 0, got ${JSON.stringify(retries)}`);
  }
  const on = options.on ?? ["always"];
  if (!Array.isArray(on) || on.length === 0) throw bad("on must be a non-empty list of failure families");
  for (const family of on) {
    if (family !== "always" && !(FAILURE_FAMILIES as readonly string[]).includes(family)) {
      throw bad(`unknown failure family ${JSON.stringify(family)} in on; use ${[...FAILURE_FAMILIES, "always"].join(", ")}`);
    }
  }
  return { retries, backoff: resolveBackoff(options.backoff), on: [...on] };
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
