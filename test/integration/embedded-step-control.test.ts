import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";

describe("embedded runtime: step control", () => {
  test("a step that yields between chunks is stopped by checkCancelled at its timeout", async () => {
    let chunks = 0;
    let sawAbort = false;
    const wf = workflow({
      name: "chunky",
      run: async (_: void, ctx) =>
        ctx.step(
          "crunch",
          async (step) => {
            try {
              for (;;) {
                chunks++;
                await step.yield();
              }
            } finally {
              sawAbort = step.signal.aborted;
            }
          },
          { timeout: "30ms" },
        ),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { cause: { name: string; family: string; message: string } };
    expect(error.cause).toMatchObject({ name: "StepFailedError", family: "timeout" });
    expect(error.cause.message).toBe('step "crunch" failed: step "crunch" timed out after 30ms');
    expect(chunks).toBeGreaterThan(1);
    expect(sawAbort).toBe(true);
    const { ops } = await rt.inspect(run.id);
    expect(ops[0]!.error).toMatchObject({ name: "TimeoutError", code: "timeout", family: "timeout" });
  });

  test("a step whose code ignores its signal still fails at the deadline", async () => {
    const wf = workflow({
      name: "deaf",
      run: async (_: void, ctx) => ctx.step("ignore", () => new Promise(() => {}), { timeout: 20 }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await expect(run.result({ timeout: "5s" })).rejects.toMatchObject({ cause: { family: "timeout" } });
  });

  test("an explicit key is used verbatim and a step sees attempt 1 first", async () => {
    const wf = workflow({
      name: "keyed",
      run: async (_: void, ctx) => ctx.step("anything", (step) => step.attempt, { key: "charge:order-7" }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    expect(await run.result()).toBe(1);
    expect((await rt.inspect(run.id)).ops.map((o) => o.opKey)).toEqual(["charge:order-7"]);
  });
});
