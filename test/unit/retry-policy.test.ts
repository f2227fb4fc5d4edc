import { thrownBy } from "../helpers/thrown-by.ts";
import { describe, expect, test } from "bun:test";
import { VilanoError } from "../../src/shared/errors.ts";
import { toFailureBody, type FailureBody } from "../../src/shared/failure.ts";
import {
  computeBackoff,
  decideRetry,
  NO_RETRY,
  resolveRetryPolicy,
  type ResolvedBackoff,
  type RetryOptions,
} from "../../src/shared/retry-policy.ts";


/** Resolves an options object that is deliberately malformed, and returns the error. */
function rejectionOf(options: unknown): VilanoError {
  const error = thrownBy(() => resolveRetryPolicy(options as RetryOptions));
  expect(error).toBeInstanceOf(VilanoError);
  return error as VilanoError;
}

function failure(overrides: Partial<FailureBody> = {}): FailureBody {
  return { name: "Error", message: "boom", family: "application", retryable: true, ...overrides };
}

describe("resolveRetryPolicy", () => {
  test("returns NO_RETRY when no policy is given", () => {
    expect(resolveRetryPolicy(undefined)).toBe(NO_RETRY);
  });

  test("defaults to a fixed one-second backoff on every family", () => {
    expect(resolveRetryPolicy({ retries: 3 })).toEqual({
      retries: 3,
      backoff: { kind: "fixed", delayMs: 1_000, jitterRatio: 0 },
      on: ["always"],
    });
  });

  test("reads a duration backoff as a fixed delay", () => {
    expect(resolveRetryPolicy({ retries: 1, backoff: "250ms" }).backoff).toEqual({ kind: "fixed", delayMs: 250, jitterRatio: 0 });
  });

  test("defaults the linear step to the initial delay", () => {
    expect(resolveRetryPolicy({ retries: 1, backoff: { kind: "linear", initial: "100ms" } }).backoff).toEqual({
      kind: "linear",
      initialMs: 100,
      stepMs: 100,
      maxMs: null,
      jitterRatio: 0,
    });
  });

  test("defaults the exponential factor to 2", () => {
    expect(resolveRetryPolicy({ retries: 1, backoff: { kind: "exponential", initial: "1s", max: "1m" } }).backoff).toEqual({
      kind: "exponential",
      initialMs: 1_000,
      factor: 2,
      maxMs: 60_000,
      jitterRatio: 0,
    });
  });

  test("maps jitter full to ratio 1", () => {
    const policy = resolveRetryPolicy({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: "full" } });
    expect(policy.backoff.jitterRatio).toBe(1);
  });

  test("maps jitter half to ratio 0.5", () => {
    const policy = resolveRetryPolicy({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: "half" } });
    expect(policy.backoff.jitterRatio).toBe(0.5);
  });

  test("keeps an explicit jitter ratio", () => {
    const policy = resolveRetryPolicy({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { ratio: 0.2 } } });
    expect(policy.backoff.jitterRatio).toBe(0.2);
  });

  test("keeps a jitter ratio written as the reference SDK writes it, { kind: \"ratio\", ratio }", () => {
    const policy = resolveRetryPolicy({ retries: 1, backoff: { kind: "exponential", initial: "1s", jitter: { kind: "ratio", ratio: 0.3 } } });
    expect(policy.backoff.jitterRatio).toBe(0.3);
  });

  test("rejects a ratio jitter without its ratio, or with one above 1", () => {
    expect(rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { kind: "ratio" } } }).message).toContain('got {"kind":"ratio"}');
    expect(rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { kind: "ratio", ratio: 2 } } }).message).toContain('"ratio":2');
  });

  test("marks an invalid policy as not retryable: the same policy fails the same way every time", () => {
    const error = rejectionOf({ retries: -1 });
    expect(error.retryable).toBe(false);
    expect(toFailureBody(error)).toMatchObject({ code: "validation_failed", retryable: false });
  });

  test("copies the on list rather than sharing it", () => {
    const on = ["timeout" as const];
    const policy = resolveRetryPolicy({ retries: 1, on });
    expect(policy.on).toEqual(["timeout"]);
    expect(policy.on).not.toBe(on);
  });

  test("rejects negative retries", () => {
    const error = rejectionOf({ retries: -1 });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("retries must be a whole number >= 0, got -1");
  });

  test("rejects non-integer retries", () => {
    const error = rejectionOf({ retries: 1.5 });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("got 1.5");
  });

  test("rejects retries given as a string", () => {
    const error = rejectionOf({ retries: "3" });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('got "3"');
  });

  test("rejects missing retries", () => {
    expect(rejectionOf({}).code).toBe("validation_failed");
  });

  test("rejects a policy that is not an object", () => {
    const error = rejectionOf(3);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("expected an object, got 3");
  });

  test("rejects null as a policy", () => {
    expect(rejectionOf(null).code).toBe("validation_failed");
  });

  test("rejects an unknown family in on", () => {
    const error = rejectionOf({ retries: 1, on: ["network"] });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('unknown failure family "network"');
  });

  test("rejects an empty on list", () => {
    const error = rejectionOf({ retries: 1, on: [] });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("non-empty");
  });

  test("rejects a jitter ratio above 1", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { ratio: 1.5 } } });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('{"ratio":1.5}');
  });

  test("rejects a negative jitter ratio", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { ratio: -0.1 } } });
    expect(error.code).toBe("validation_failed");
  });

  test("rejects a NaN jitter ratio", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { ratio: Number.NaN } } });
    expect(error.code).toBe("validation_failed");
  });

  test("rejects an unknown jitter name", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: "quarter" } });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"quarter"');
  });

  test("rejects an unknown backoff kind", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "random", initial: "1s" } });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('backoff kind must be "fixed", "linear" or "exponential", got "random"');
  });

  test("rejects an exponential factor below 1", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "exponential", initial: "1s", factor: 0.5 } });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("factor must be a number >= 1, got 0.5");
  });

  test("rejects an infinite exponential factor", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "exponential", initial: "1s", factor: Number.POSITIVE_INFINITY } });
    expect(error.code).toBe("validation_failed");
  });

  test("rejects a bad duration inside the backoff", () => {
    const error = rejectionOf({ retries: 1, backoff: { kind: "linear", initial: "soon" } });
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"soon"');
  });
});

describe("resolveRetryPolicy: what the valibot schema says", () => {
  test("a policy accepted before stays accepted (runs in flight replay it): extra keys and null defaults", () => {
    expect(resolveRetryPolicy({ retries: 1, maxAttempts: 3 } as never).retries).toBe(1);
    expect(resolveRetryPolicy({ retries: 1, on: null } as never).on).toEqual(["always"]);
    expect(resolveRetryPolicy({ retries: 1, backoff: { kind: "exponential", initial: "1s", factor: null } } as never).backoff).toMatchObject({ factor: 2 });
  });

  test("a missing field is named", () => {
    expect(() => resolveRetryPolicy({} as never)).toThrow("invalid retry policy: retries must be a whole number >= 0, got undefined");
    expect(() => resolveRetryPolicy({ retries: 1, backoff: { kind: "fixed" } } as never)).toThrow("invalid retry policy: a fixed backoff needs delay");
    expect(() => resolveRetryPolicy({ retries: 1, on: "timeout" } as never)).toThrow('on must be a list of failure families, got "timeout"');
  });
});

describe("computeBackoff", () => {
  const fixed: ResolvedBackoff = { kind: "fixed", delayMs: 500, jitterRatio: 0 };
  const linear: ResolvedBackoff = { kind: "linear", initialMs: 100, stepMs: 50, maxMs: 220, jitterRatio: 0 };
  const exponential: ResolvedBackoff = { kind: "exponential", initialMs: 100, factor: 2, maxMs: 1_000, jitterRatio: 0 };

  test("returns the same delay for every attempt of a fixed backoff", () => {
    expect([1, 2, 3, 10].map((a) => computeBackoff(fixed, a, "seed"))).toEqual([500, 500, 500, 500]);
  });

  test("adds one step per attempt for a linear backoff", () => {
    expect([1, 2, 3].map((a) => computeBackoff(linear, a, "seed"))).toEqual([100, 150, 200]);
  });

  test("caps a linear backoff at max", () => {
    expect([4, 5, 50].map((a) => computeBackoff(linear, a, "seed"))).toEqual([220, 220, 220]);
  });

  test("grows a linear backoff without bound when max is null", () => {
    expect(computeBackoff({ ...linear, maxMs: null }, 11, "seed")).toBe(600);
  });

  test("multiplies by the factor per attempt for an exponential backoff", () => {
    expect([1, 2, 3, 4].map((a) => computeBackoff(exponential, a, "seed"))).toEqual([100, 200, 400, 800]);
  });

  test("caps an exponential backoff at max", () => {
    expect([5, 6, 40].map((a) => computeBackoff(exponential, a, "seed"))).toEqual([1_000, 1_000, 1_000]);
  });

  test("uses a non-integer factor", () => {
    expect(computeBackoff({ ...exponential, factor: 1.5, maxMs: null }, 3, "seed")).toBe(225);
  });

  test("rounds a fractional delay to whole milliseconds", () => {
    expect(computeBackoff({ ...exponential, initialMs: 3, factor: 1.5, maxMs: null }, 2, "seed")).toBe(5);
  });

  test("ignores the seed when there is no jitter", () => {
    expect(computeBackoff(exponential, 3, "a")).toBe(computeBackoff(exponential, 3, "b"));
  });

  test("keeps full jitter within [0, base]", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 1_000, jitterRatio: 1 };
    for (let i = 0; i < 200; i++) {
      const delay = computeBackoff(backoff, 1 + (i % 7), `run_${i}:step:a:0`);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  test("keeps half jitter within [base/2, base]", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 1_000, jitterRatio: 0.5 };
    for (let i = 0; i < 200; i++) {
      const delay = computeBackoff(backoff, 1 + (i % 7), `run_${i}:step:a:0`);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(1_000);
    }
  });

  test("keeps a ratio jitter within [base*(1-ratio), base] of the capped base", () => {
    const backoff: ResolvedBackoff = { ...exponential, jitterRatio: 0.2 };
    for (let i = 0; i < 200; i++) {
      const attempt = 1 + (i % 8);
      const base = Math.min(100 * 2 ** (attempt - 1), 1_000);
      const delay = computeBackoff(backoff, attempt, `seed-${i}`);
      expect(delay).toBeGreaterThanOrEqual(base * 0.8);
      expect(delay).toBeLessThanOrEqual(base);
    }
  });

  test("actually varies the delay under jitter", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 1_000, jitterRatio: 1 };
    const delays = new Set(Array.from({ length: 50 }, (_, i) => computeBackoff(backoff, 1, `seed-${i}`)));
    expect(delays.size).toBeGreaterThan(40);
  });

  test("gives the same jittered delay for the same seed and attempt", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 10_000, jitterRatio: 1 };
    expect(computeBackoff(backoff, 2, "run_x:step:a:0")).toBe(computeBackoff(backoff, 2, "run_x:step:a:0"));
  });

  test("gives different jittered delays for different attempts with the same seed", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 10_000_000, jitterRatio: 1 };
    expect(computeBackoff(backoff, 1, "run_x:step:a:0")).not.toBe(computeBackoff(backoff, 2, "run_x:step:a:0"));
  });

  test("gives different jittered delays for different seeds at the same attempt", () => {
    const backoff: ResolvedBackoff = { ...fixed, delayMs: 10_000_000, jitterRatio: 1 };
    expect(computeBackoff(backoff, 1, "run_x:step:a:0")).not.toBe(computeBackoff(backoff, 1, "run_y:step:a:0"));
  });
});

describe("decideRetry", () => {
  const policy = resolveRetryPolicy({ retries: 2, backoff: { kind: "exponential", initial: "100ms", jitter: "full" } });

  test("does not retry a failure marked non-retryable", () => {
    expect(decideRetry(policy, failure({ retryable: false }), 1, "s")).toEqual({
      decision: "non_retryable",
      attempt: 1,
      maxAttempts: 3,
    });
  });

  test("reports non_retryable before retries_disabled", () => {
    expect(decideRetry(NO_RETRY, failure({ retryable: false }), 1, "s").decision).toBe("non_retryable");
  });

  test("does not retry when retries is 0", () => {
    expect(decideRetry(resolveRetryPolicy({ retries: 0 }), failure(), 1, "s")).toEqual({
      decision: "retries_disabled",
      attempt: 1,
      maxAttempts: 1,
    });
  });

  test("does not retry under NO_RETRY", () => {
    expect(decideRetry(NO_RETRY, failure(), 1, "s").decision).toBe("retries_disabled");
  });

  test("does not retry a family the policy does not select", () => {
    const onlyTimeouts = resolveRetryPolicy({ retries: 3, on: ["timeout"] });
    expect(decideRetry(onlyTimeouts, failure({ family: "application" }), 1, "s")).toEqual({
      decision: "family_not_selected",
      attempt: 1,
      maxAttempts: 4,
    });
  });

  test("retries a family the policy selects", () => {
    const onlyTimeouts = resolveRetryPolicy({ retries: 3, on: ["timeout"] });
    expect(decideRetry(onlyTimeouts, failure({ family: "timeout" }), 1, "s").decision).toBe("scheduled");
  });

  test("selects every family with always", () => {
    const always = resolveRetryPolicy({ retries: 1, on: ["always"] });
    const families = ["application", "timeout", "process_exit", "process_spawn"] as const;
    expect(families.map((family) => decideRetry(always, failure({ family }), 1, "s").decision)).toEqual([
      "scheduled",
      "scheduled",
      "scheduled",
      "scheduled",
    ]);
  });

  test("stops when the failed attempt is the last allowed", () => {
    expect(decideRetry(policy, failure(), 3, "s")).toEqual({ decision: "attempts_exhausted", attempt: 3, maxAttempts: 3 });
  });

  test("schedules the attempt before the last", () => {
    expect(decideRetry(policy, failure(), 2, "s").decision).toBe("scheduled");
  });

  test("schedules a retry with the delay computeBackoff gives", () => {
    const decision = decideRetry(policy, failure(), 2, "run_1:step:a:0");
    expect(decision).toEqual({
      decision: "scheduled",
      delayMs: computeBackoff(policy.backoff, 2, "run_1:step:a:0"),
      attempt: 2,
      maxAttempts: 3,
    });
  });

  test("schedules the exact unjittered delay for the failed attempt", () => {
    const plain = resolveRetryPolicy({ retries: 5, backoff: { kind: "exponential", initial: "100ms" } });
    expect(decideRetry(plain, failure(), 3, "s").delayMs).toBe(400);
  });
});

describe("computeBackoff limits", () => {
  test("an uncapped exponential backoff stops growing at seven days", async () => {
    const { computeBackoff, resolveRetryPolicy, MAX_RETRY_DELAY_MS } = await import("../../src/shared/retry-policy.ts");
    const policy = resolveRetryPolicy({ retries: 5000, backoff: { kind: "exponential", initial: "1s" } });
    expect(computeBackoff(policy.backoff, 2000, "seed")).toBe(MAX_RETRY_DELAY_MS);
    expect(MAX_RETRY_DELAY_MS).toBe(7 * 86_400_000);
  });
});
