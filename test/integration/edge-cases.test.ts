import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

describe("step timeouts", () => {
  test("a step with a 30-day timeout is not timed out after a few milliseconds", async () => {
    const wf = workflow({
      name: "longTimeout",
      run: async (_: void, ctx) => ctx.step("slow-ish", async () => (await Bun.sleep(50), "ok"), { timeout: "30d" }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const outcome = await run.result({ timeout: "5s" }).then(
      (value) => ({ value }),
      (error: { cause?: { family?: string; message?: string } }) => ({ family: error.cause?.family, message: error.cause?.message }),
    );
    await rt.close();
    expect(outcome).toEqual({ value: "ok" });
  });
});

describe("unhandled rejections", () => {
  test("starting a signal wait, doing a step, then awaiting the wait raises no unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const wf = workflow({
        name: "approveLater",
        run: async (_: void, ctx) => {
          const approval = ctx.waitForSignal<string>("approve");
          await ctx.step("notify", async () => (await Bun.sleep(30), "sent"));
          return await approval;
        },
      });
      await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
      const run = await rt.start(wf);
      // The step is done and the run waits only for the signal.
      await eventually(async () => ((await rt.status(run.id)) === "waiting" ? true : undefined), 2_000, "the run to wait for its signal");
      await rt.signal(run.id, "approve", "yes");
      expect(await run.result({ timeout: "2s" })).toBe("yes");
      await rt.close();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled.map((r) => (r as Error).name)).toEqual([]);
  });
});
