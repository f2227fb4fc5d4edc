/**
 * The retry policy of a step or an exec, read once before the op takes a position in history. It is
 * written either as `retry: { retries, backoff, on }` or, as the reference SDK allows, with those
 * three at the top level of the options; never both. A policy that cannot be read is a
 * `validation_failed` that no retry policy retries (the same options fail the same way every time).
 */
import { resolveRetryPolicy, VilanoError, type ResolvedRetryPolicy, type RetryOptions } from "../shared/index.ts";

/** The top-level spelling: `ctx.step("x", fn, { retries: 2, backoff: "1s", on: ["timeout"] })`. */
export const RETRY_SHORTHAND = ["retries", "backoff", "on"] as const;

type WithRetry = { retry?: RetryOptions } & { [K in (typeof RETRY_SHORTHAND)[number]]?: unknown };

export function retryPolicyOf(where: string, options: WithRetry | undefined): ResolvedRetryPolicy {
  const given = RETRY_SHORTHAND.filter((name) => options?.[name] !== undefined);
  if (given.length > 0 && options?.retry !== undefined) {
    throw new VilanoError(
      "validation_failed",
      `${where}: give the retry policy once, either as retry: { … } or as ${given.join(", ")} at the top level, not both`,
      { details: { shorthand: given }, retryable: false },
    );
  }
  const policy = given.length > 0 ? (Object.fromEntries(given.map((name) => [name, options![name]])) as unknown as RetryOptions) : options?.retry;
  try {
    return resolveRetryPolicy(policy);
  } catch (error) {
    const e = error as VilanoError;
    throw new VilanoError("validation_failed", `${where}: ${e.message}`, { details: e.details, retryable: false });
  }
}
