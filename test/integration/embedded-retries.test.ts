import { describe, expect, test } from "bun:test";
import { type Runtime } from "../../src/embedded/index.ts";
import { createRuntime } from "../helpers/stores.ts";
import { nonRetryable, workflow, type RetryOptions } from "../../src/sdk/index.ts";
import { computeBackoff, resolveRetryPolicy } from "../../src/shared/index.ts";

/** A workflow with one step that throws on every attempt listed in `failOn` (all when omitted). */
function flakyWorkflow(name: string, retry: RetryOptions, attempts: number[], fail: (attempt: number) => unknown) {
  return workflow({
    name,
    run: async (_: void, ctx) =>
      ctx.step(
        "flaky",
        (step) => {
          attempts.push(step.attempt);
          const error = fail(step.attempt);
          if (error) throw error;
          return `ok on attempt ${step.attempt}`;
        },
        { retry },
      ),
  });
}

/** What a promise rejected with (null if it resolved). */
const failureOf = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error);

async function withRuntime<T>(definitions: unknown[], fn: (rt: Runtime) => Promise<T>): Promise<T> {
  await using rt = await createRuntime({ definitions, logLevel: "silent" });
  try {
    return await fn(rt);
  } finally {
    await rt.close();
  }
}

describe("embedded runtime: retries", () => {
  test("exponential backoff with a cap and jitter records the delays the formula gives", async () => {
    const retry: RetryOptions = {
      retries: 4,
      backoff: { kind: "exponential", initial: "8ms", factor: 2, max: "20ms", jitter: "full" },
    };
    const attempts: number[] = [];
    const wf = flakyWorkflow("expo", retry, attempts, () => new Error("still broken"));
    await withRuntime([wf], async (rt) => {
      const run = await rt.start(wf);
      await expect(run.result()).rejects.toMatchObject({ code: "run_failed" });
      expect(attempts).toEqual([1, 2, 3, 4, 5]);

      const { events, ops } = await rt.inspect(run.id);
      const resolved = resolveRetryPolicy(retry);
      const expectedDelays = [1, 2, 3, 4].map((attempt) => computeBackoff(resolved.backoff, attempt, `${run.id}|step:flaky:0`));
      const recorded = events.filter((e) => e.type === "retry_scheduled").map((e) => e.delayMs);
      expect(recorded).toEqual(expectedDelays);
      // The cap holds and the jitter is real: bases 8, 16, 20, 20, each reduced by up to 100%.
      [8, 16, 20, 20].forEach((base, i) => expect(expectedDelays[i]!).toBeLessThanOrEqual(base));
      expect(expectedDelays).not.toEqual([8, 16, 20, 20]);

      const decisions = events.filter((e) => e.type === "step_attempt_failed").map((e) => [e.attempt, e.decision]);
      expect(decisions).toEqual([
        [1, "scheduled"],
        [2, "scheduled"],
        [3, "scheduled"],
        [4, "scheduled"],
        [5, "attempts_exhausted"],
      ]);
      expect(ops).toEqual([expect.objectContaining({ opKey: "step:flaky:0", status: "failed", attempt: 5 })]);
      const failure = (await rt.inspect(run.id)).run.error;
      expect(failure).toMatchObject({ name: "StepFailedError", code: "step_failed" });
    });
  });

  test("a step that succeeds on its third attempt returns that result", async () => {
    const attempts: number[] = [];
    const wf = flakyWorkflow("thirdTime", { retries: 5, backoff: "1ms" }, attempts, (a) => (a < 3 ? new Error(`no ${a}`) : null));
    await withRuntime([wf], async (rt) => {
      const run = await rt.start(wf);
      expect(await run.result()).toBe("ok on attempt 3");
      expect(attempts).toEqual([1, 2, 3]);
      const { ops } = await rt.inspect(run.id);
      expect(ops[0]).toMatchObject({ status: "completed", attempt: 3 });
    });
  });

  test("a nonRetryable error stops at once whatever the policy", async () => {
    const attempts: number[] = [];
    const wf = flakyWorkflow("fatal", { retries: 5, backoff: "1ms" }, attempts, () => nonRetryable(new Error("invalid card")));
    await withRuntime([wf], async (rt) => {
      const run = await rt.start(wf);
      const error = await run.result().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "run_failed" });
      expect(attempts).toEqual([1]);
      const { events } = await rt.inspect(run.id);
      expect(events.find((e) => e.type === "step_attempt_failed")).toMatchObject({ decision: "non_retryable", error: "invalid card" });
    });
  });

  test("the on filter retries only the selected failure families", async () => {
    const appAttempts: number[] = [];
    const app = flakyWorkflow("appOnly", { retries: 3, backoff: "1ms", on: ["timeout"] }, appAttempts, () => new Error("app bug"));
    const timeoutAttempts: number[] = [];
    const slow = workflow({
      name: "slowStep",
      run: async (_: void, ctx) =>
        ctx.step(
          "hang",
          (step) => {
            timeoutAttempts.push(step.attempt);
            return new Promise((resolve) => step.signal.addEventListener("abort", () => resolve("aborted")));
          },
          { timeout: "15ms", retry: { retries: 2, backoff: "1ms", on: ["timeout"] } },
        ),
    });
    await withRuntime([app, slow], async (rt) => {
      const appRun = await rt.start(app);
      // Not `expect(…).rejects`: under bun test, after an earlier test in the file, it waits about a
      // second for a promise our commit callback rejects (measured); the outcome itself is checked.
      expect(await failureOf(appRun.result())).toMatchObject({ code: "run_failed" });
      expect(appAttempts).toEqual([1]);
      const appEvents = (await rt.inspect(appRun.id)).events;
      expect(appEvents.find((e) => e.type === "step_attempt_failed")).toMatchObject({ decision: "family_not_selected", family: "application" });

      const slowRun = await rt.start(slow);
      expect(await failureOf(slowRun.result())).toMatchObject({ code: "run_failed" });
      expect(timeoutAttempts).toEqual([1, 2, 3]);
      const slowEvents = (await rt.inspect(slowRun.id)).events.filter((e) => e.type === "step_attempt_failed");
      expect(slowEvents.map((e) => [e.family, e.decision])).toEqual([
        ["timeout", "scheduled"],
        ["timeout", "scheduled"],
        ["timeout", "attempts_exhausted"],
      ]);
    });
  });

  test("without a retry policy a failed step is not retried and says so", async () => {
    const attempts: number[] = [];
    const wf = workflow({
      name: "noPolicy",
      run: async (_: void, ctx) => {
        try {
          await ctx.step("once", (step) => {
            attempts.push(step.attempt);
            throw new Error("boom");
          });
        } catch (error) {
          const e = error as { name: string; stepName: string; cause: { message: string } };
          return { caught: e.name, stepName: e.stepName, message: e.cause.message };
        }
      },
    });
    await withRuntime([wf], async (rt) => {
      const run = await rt.start(wf);
      expect(await run.result()).toEqual({ caught: "StepFailedError", stepName: "once", message: "boom" });
      expect(attempts).toEqual([1]);
      const { events } = await rt.inspect(run.id);
      expect(events.find((e) => e.type === "step_attempt_failed")).toMatchObject({ decision: "retries_disabled" });
    });
  });
});
