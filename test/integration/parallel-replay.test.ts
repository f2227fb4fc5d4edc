import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

// Review: replay of parallel branches. Implicit op keys/positions are handed out in the order ops
// are *called*; in a live activation a branch's second op is called when its first op's real work
// finishes, while on replay recorded ops resolve at once, in call order.

describe("replay of parallel branches", () => {
  test("Promise.all over items with two steps each replays each item's own results", async () => {
    const processCalls: number[] = [];
    const wf = workflow({
      name: "fanout",
      run: async (_: void, ctx) => {
        const out = await Promise.all(
          [0, 1, 2].map(async (item) => {
            // Item 2 finishes its fetch first, item 0 last (real I/O latency differs per item).
            const fetched = await ctx.step("fetch", async () => {
              await Bun.sleep((3 - item) * 30);
              return item;
            });
            return ctx.step("process", () => (processCalls.push(fetched), fetched * 10));
          }),
        );
        await ctx.sleep(1); // forces a second activation that replays everything above
        return out;
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const result = await run.result({ timeout: "5s" });
    await rt.close();
    // Each item's "process" step ran once with its own input...
    expect(processCalls.sort()).toEqual([0, 1, 2]);
    // ...so the workflow (deterministic) must return [0, 10, 20].
    expect(result).toEqual([0, 10, 20]);
  });

  test("a deterministic workflow with two sequential-per-branch chains is not flagged as nondeterministic", async () => {
    const wf = workflow({
      name: "twoChains",
      run: async (_: void, ctx) => {
        const [x, y] = await Promise.all([
          (async () => {
            const a = await ctx.step("a", async () => (await Bun.sleep(40), 1));
            return ctx.step("c", () => a + 1);
          })(),
          (async () => {
            const b = await ctx.step("b", () => 10);
            return ctx.step("d", () => b + 1);
          })(),
        ]);
        await ctx.sleep(1);
        return x + y;
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const outcome = await run.result({ timeout: "5s" }).then(
      (value) => ({ value }),
      (error: { cause?: { code?: string; message?: string } }) => ({ error: error.cause?.code, message: error.cause?.message }),
    );
    await rt.close();
    expect(outcome).toEqual({ value: 13 });
  });
});

describe("Promise.race with durable ops", () => {
  test("racing a signal wait against a long sleep resumes when the signal arrives", async () => {
    const clock = createManualClock();
    const wf = workflow({
      name: "raceSignal",
      run: async (_: void, ctx) =>
        Promise.race([ctx.waitForSignal<string>("go"), ctx.sleep("1h").then(() => "timed out")]),
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined), 5_000, "the run to wait");
    await rt.signal(run.id, "go", "approved");
    const outcome = await run.result({ timeout: "1s" }).then(
      (value) => ({ value }),
      (error: { code?: string }) => ({ error: error.code }),
    );
    const status = await run.status();
    await rt.close();
    expect({ outcome, status }).toEqual({ outcome: { value: "approved" }, status: "completed" });
  });

  test("racing a signal wait against a sleep times out when the sleep fires and no signal came", async () => {
    const clock = createManualClock();
    const wf = workflow({
      name: "raceTimeout",
      run: async (_: void, ctx) =>
        Promise.race([ctx.waitForSignal<string>("go"), ctx.sleep("1h").then(() => "timed out")]),
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined), 5_000, "the run to wait");
    clock.advance(2 * 3_600_000);
    const outcome = await run.result({ timeout: "1s" }).then(
      (value) => ({ value }),
      (error: { code?: string }) => ({ error: error.code }),
    );
    const status = await run.status();
    await rt.close();
    expect({ outcome, status }).toEqual({ outcome: { value: "timed out" }, status: "completed" });
  });
});

describe("abandoned waits", () => {
  test("a wait that lost a race is closed when the run completes", async () => {
    const wf = workflow({
      name: "raceLoser",
      run: async (_: void, ctx) => Promise.race([ctx.waitForSignal("never"), ctx.step("fast", () => "won")]),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    expect(await run.result()).toBe("won");
    const { ops } = await rt.inspect(run.id);
    expect(ops.find((o) => o.kind === "signal")).toMatchObject({ status: "cancelled" });
  });
});
