/**
 * Outcomes that running code does not see: a sleep that comes due, or a signal that arrives,
 * while another branch of the same code still runs a step. The code goes on without them, so a
 * replay must deliver them after everything that activation saw — not in the order they were
 * settled — or it calls ops in another order and fails with nondeterminism.
 */
import { expect, test } from "bun:test";
import { workflow } from "../../src/sdk/index.ts";
import { createRuntime } from "../helpers/stores.ts";
import { eventually } from "../helpers/temp-dir.ts";

test("a sleep that comes due while a sibling branch's step still runs replays in the order the code went", async () => {
  const branches = workflow({
    name: "dueWhileBusy",
    run: async (_: void, ctx) => {
      const [a, b] = await Promise.all([
        (async () => (await ctx.sleep(50), ctx.step("a", () => "A")))(),
        (async () => {
          await ctx.step("pre", () => 0);
          await ctx.step("slow", async () => (await Bun.sleep(250), 1)); // the sleep comes due meanwhile
          return ctx.step("b", () => "B");
        })(),
      ]);
      await ctx.sleep(10); // another activation: a replay from the top
      return `${a}${b}`;
    },
  });
  // No parked executions: every activation after the first replays from history.
  await using rt = await createRuntime({ definitions: [branches], logLevel: "silent", liveExecutions: 0 });
  const outputs = await Promise.all(Array.from({ length: 3 }, async () => (await rt.start(branches)).result({ timeout: "20s" })));
  expect(outputs).toEqual(["AB", "AB", "AB"]);
}, 30_000);

test("a signal that arrives while a sibling branch's step still runs replays in the order the code went", async () => {
  let release: () => void = () => {};
  const stepStarted = new Promise<void>((resolve) => (release = resolve));
  let letStepEnd: () => void = () => {};
  const stepMayEnd = new Promise<void>((resolve) => (letStepEnd = resolve));
  const branches = workflow({
    name: "signalWhileBusy",
    run: async (_: void, ctx) => {
      const [a, b] = await Promise.all([
        (async () => (await ctx.waitForSignal<string>("go"), ctx.step("a", () => "A")))(),
        (async () => {
          await ctx.step("slow", async () => {
            release();
            await stepMayEnd; // the signal is committed while this runs
            return 1;
          });
          return ctx.step("b", () => "B");
        })(),
      ]);
      await ctx.sleep(10);
      return `${a}${b}`;
    },
  });
  await using rt = await createRuntime({ definitions: [branches], logLevel: "silent", liveExecutions: 0 });
  const run = await rt.start(branches);
  await stepStarted;
  // The signal wait is recorded before the step runs (both branches start at once).
  await eventually(async () => ((await rt.inspect(run.id)).ops.some((op) => op.kind === "signal") ? true : undefined));
  await rt.signal(run.id, "go", "now");
  letStepEnd();
  expect(await run.result({ timeout: "20s" })).toBe("AB");
}, 30_000);
