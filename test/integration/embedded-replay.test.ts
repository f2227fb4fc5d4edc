import { describe, expect, test } from "bun:test";
import { createConsola } from "consola";
import { createRuntime, tempDatabase } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";


describe("embedded runtime: replay", () => {
  test("a 10-step workflow completes and reopening the database re-executes no step", async () => {
    const database = tempDatabase();
    let executions = 0;
    const tenSteps = workflow({
      name: "tenSteps",
      run: async (input: { base: number }, ctx) => {
        const values: number[] = [];
        for (let i = 0; i < 10; i++) {
          values.push(
            await ctx.step(`step-${i}`, () => {
              executions++;
              return input.base + i;
            }),
          );
        }
        return { sum: values.reduce((a, b) => a + b, 0), values };
      },
    });
    const expected = { sum: 145, values: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19] };

    await using first = await createRuntime({ database, definitions: [tenSteps], logLevel: "silent" });
    const run = await first.start(tenSteps, { base: 10 }, { id: "ten-steps-1" });
    expect(await run.result()).toEqual(expected);
    expect(executions).toBe(10);
    await first.close();

    await using second = await createRuntime({ database, definitions: [tenSteps], logLevel: "silent" });
    expect(await second.result("ten-steps-1")).toEqual(expected);
    const again = await second.start(tenSteps, { base: 10 }, { id: "ten-steps-1" });
    expect(again.created).toBe(false);
    expect(await again.result()).toEqual(expected);
    const inspection = await second.inspect("ten-steps-1");
    expect(inspection.ops.map((op) => [op.opKey, op.status, op.result])).toEqual(
      expected.values.map((v, i) => [`step:step-${i}:0`, "completed", v]),
    );
    expect(inspection.events.filter((e) => e.type === "step_completed")).toHaveLength(10);
    await second.close();
    expect(executions).toBe(10);
  });

  test("a step that resumes after a sleep is replayed from history, not executed again", async () => {
    let before = 0;
    let after = 0;
    const wf = workflow({
      name: "sleepy",
      run: async (_: void, ctx) => {
        const a = await ctx.step("before", () => ++before);
        await ctx.sleep(10);
        const b = await ctx.step("after", () => ++after);
        return [a, b];
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    expect(await run.result()).toEqual([1, 1]);
    expect([before, after]).toEqual([1, 1]);
  });

  test("parallel steps started with Promise.all are each recorded once", async () => {
    let calls = 0;
    const wf = workflow({
      name: "fanout",
      run: async (_: void, ctx) => {
        const parts = await Promise.all([1, 2, 3, 4].map((n) => ctx.step("part", () => (calls++, n * n))));
        await ctx.sleep(5);
        return parts;
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    expect(await run.result()).toEqual([1, 4, 9, 16]);
    expect(calls).toBe(4);
    const { ops } = await rt.inspect(run.id);
    expect(ops.filter((o) => o.kind === "step").map((o) => o.opKey)).toEqual(["step:part:0", "step:part:1", "step:part:2", "step:part:3"]);
  });

  test("ctx.log is recorded once and silent on replay; now and random replay their recorded values", async () => {
    const printed: string[] = [];
    const values: number[][] = [];
    const wf = workflow({
      name: "recorded",
      run: async (_: void, ctx) => {
        ctx.log("hello", { n: 1 });
        const pair = [ctx.now(), ctx.random()];
        values.push(pair);
        await ctx.sleep(5);
        return pair;
      },
    });
    const logger = createConsola({ level: 3, reporters: [{ log: (entry) => printed.push(String(entry.args[0])) }] });
    // Without live executions: the activation after the sleep replays from the top.
    await using rt = await createRuntime({ definitions: [wf], logger, liveExecutions: 0 });
    const run = await rt.start(wf);
    const result = await run.result();
    expect(values).toHaveLength(2); // two activations: before and after the sleep
    expect(values[1]).toEqual(values[0]!);
    expect(result).toEqual(values[0]!);
    const { events } = await rt.inspect(run.id);
    const logs = events.filter((e) => e.type === "log");
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatchObject({ message: "hello", fields: { n: 1 } });
    expect(printed).toEqual([`${run.id} hello`]);
  });
});

describe("embedded runtime: parallel branches", () => {
  test("a step running beside a sleep is recorded when it finishes after the sleep suspended", async () => {
    let calls = 0;
    const wf = workflow({
      name: "stepBesideSleep",
      run: async (_: void, ctx) => {
        const [value] = await Promise.all([
          ctx.step("slow", async () => {
            calls++;
            await Bun.sleep(20);
            return "slow-done";
          }),
          ctx.sleep(1),
        ]);
        return value;
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    expect(await run.result()).toBe("slow-done");
    expect(calls).toBe(1);
  });
});
