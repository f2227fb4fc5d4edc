import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

describe("embedded runtime: nondeterminism", () => {
  test("a run whose op order differs between activations fails with reason nondeterminism", async () => {
    // The code "changes" between activations: before the sleep it runs A then B; after, B then A.
    let activation = 0;
    const wf = workflow({
      name: "shifty",
      run: async (_: void, ctx) => {
        activation++;
        const order = activation === 1 ? ["A", "B"] : ["B", "A"];
        for (const name of order) await ctx.step(name, () => name);
        await ctx.sleep(5);
        return "unreachable";
      },
    });
    // A replay after the sleep is what sees the change (a live execution would just go on).
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent", liveExecutions: 0 });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { code: string; cause: { code: string; message: string; details: unknown } };
    expect(error.code).toBe("run_failed");
    expect(error.cause.code).toBe("nondeterminism");
    expect(error.cause.message).toContain('op key "step:A:0"');
    expect(error.cause.details).toEqual({
      opKey: "step:A:0",
      recorded: 'step "A" (key step:A:0, position 0)',
      requested: 'step "B" (key step:B:0, position 0)',
    });
    expect(activation).toBe(2);
  });

  test("an op of another kind under a recorded key is nondeterminism too", async () => {
    let activation = 0;
    const wf = workflow({
      name: "kindSwap",
      run: async (_: void, ctx) => {
        activation++;
        if (activation === 1) await ctx.step("x", () => 1, { key: "k" });
        else await ctx.waitForSignal("x", { key: "k" });
        await ctx.sleep(5);
        return "unreachable";
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent", liveExecutions: 0 });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { cause: { code: string; details: unknown } };
    expect(error.cause).toMatchObject({
      code: "nondeterminism",
      details: { opKey: "k", recorded: 'step "x" (key k, position 0)', requested: 'signal "x" (key k, position 0)' },
    });
  });
});

describe("embedded runtime: swallowed suspensions", () => {
  test("code that catches a suspension and returns early does not complete the run", async () => {
    const clock = createManualClock();
    const wf = workflow({
      name: "swallower",
      run: async (_: void, ctx) => {
        try {
          await ctx.sleep("1m");
        } catch {
          return "too early";
        }
        return "after the sleep";
      },
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    clock.advance(60_000);
    expect(await run.result({ timeout: "5s" })).toBe("after the sleep");
  });

  test("code that swallows a suspension and calls more ops cannot run them", async () => {
    const clock = createManualClock();
    let sideEffects = 0;
    const wf = workflow({
      name: "persistent",
      run: async (_: void, ctx) => {
        try {
          await ctx.waitForSignal("go");
        } catch {
          // Keeps going as if nothing happened: the step must not run in this activation.
        }
        try {
          await ctx.step("effect", () => ++sideEffects);
        } catch {
          /* swallowed again */
        }
        return "done";
      },
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    expect(sideEffects).toBe(0);
    await rt.signal(run.id, "go");
    expect(await run.result({ timeout: "5s" })).toBe("done");
    expect(sideEffects).toBe(1);
  });
});
