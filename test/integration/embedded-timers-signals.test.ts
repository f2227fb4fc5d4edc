import { describe, expect, test } from "bun:test";
import { createRuntime, tempDatabase } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

const HOUR = 3_600_000;

describe("embedded runtime: durable timers", () => {
  test("a sleep that falls due while no process runs fires once after reopening", async () => {
    const database = tempDatabase();
    const counts = { before: 0, after: 0 };
    const napper = workflow({
      name: "napper",
      run: async (_: void, ctx) => {
        await ctx.step("before", () => ++counts.before);
        await ctx.sleep("1h");
        return ctx.step("after", () => ++counts.after);
      },
    });
    const start = 1_800_000_000_000;
    await using first = await createRuntime({ database, definitions: [napper], clock: createManualClock(start), logLevel: "silent" });
    const run = await first.start(napper, undefined, { id: "nap-1" });
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined), 5_000, "the run to wait");
    await first.close();

    // Two hours later, a fresh runtime on the same file: the timer is overdue and fires at start.
    await using second = await createRuntime({ database, definitions: [napper], clock: createManualClock(start + 2 * HOUR), logLevel: "silent" });
    expect(await second.result("nap-1", { timeout: "5s" })).toBe(1);
    expect(counts).toEqual({ before: 1, after: 1 });
    const { events } = await second.inspect("nap-1");
    expect(events.filter((e) => e.type === "timer_fired")).toHaveLength(1);
    expect(events.filter((e) => e.type === "timer_scheduled")).toEqual([
      expect.objectContaining({ opKey: "sleep:0", durationMs: HOUR, wakeAt: start + HOUR }),
    ]);
  });

  test("a sleeping run stays waiting until the clock reaches its timer", async () => {
    const clock = createManualClock();
    const wf = workflow({ name: "wait5m", run: async (_: void, ctx) => (await ctx.sleep("5m"), "woke") });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    clock.advance(4 * 60_000);
    await rt.inspect(run.id); // a round trip through the kernel queue
    expect(await run.status()).toBe("waiting");
    clock.advance(60_000);
    expect(await run.result({ timeout: "5s" })).toBe("woke");
  });
});

describe("embedded runtime: signals", () => {
  test("a signal sent before its wait is buffered and consumed by the wait", async () => {
    const clock = createManualClock();
    const wf = workflow({
      name: "approval",
      run: async (_: void, ctx) => {
        await ctx.sleep("1m");
        return ctx.waitForSignal<{ by: string }>("approved");
      },
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    expect(await rt.signal(run.id, "approved", { by: "ana" })).toMatchObject({ status: "buffered" });
    clock.advance(60_000);
    expect(await run.result({ timeout: "5s" })).toEqual({ by: "ana" });
    const { events, signals } = await rt.inspect(run.id);
    const types = events.map((e) => e.type);
    expect(types.indexOf("signal_received")).toBeLessThan(types.indexOf("signal_consumed"));
    expect(signals).toEqual([expect.objectContaining({ name: "approved", status: "consumed", consumedBy: "signal:approved:0" })]);
  });

  test("a signal sent to a waiting run is delivered to the wait and wakes the run", async () => {
    const wf = workflow({ name: "waiter", run: async (_: void, ctx) => ctx.waitForSignal("go") });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    expect(await rt.signal(run.id, "go", [1, 2])).toMatchObject({ status: "delivered" });
    expect(await run.result({ timeout: "5s" })).toEqual([1, 2]);
  });

  test("a wait with a timeout throws SignalTimeoutError when no signal arrives", async () => {
    const clock = createManualClock();
    const wf = workflow({
      name: "impatient",
      run: async (_: void, ctx) => {
        try {
          await ctx.waitForSignal("never", { timeout: "30s" });
          return { timedOut: false };
        } catch (error) {
          const e = error as { name: string; code: string; signalName: string };
          return { timedOut: true, name: e.name, code: e.code, signalName: e.signalName };
        }
      },
    });
    await using rt = await createRuntime({ definitions: [wf], clock, logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    clock.advance(30_000);
    expect(await run.result({ timeout: "5s" })).toEqual({
      timedOut: true,
      name: "SignalTimeoutError",
      code: "signal_timeout",
      signalName: "never",
    });
    const { events } = await rt.inspect(run.id);
    expect(events.map((e) => e.type)).toContain("signal_timed_out");
  });

  test("a signal to a finished or unknown run is refused with a clear error", async () => {
    const wf = workflow({ name: "quick", run: async () => "done" });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await run.result();
    await expect(rt.signal(run.id, "late")).rejects.toMatchObject({ code: "run_finished" });
    await expect(rt.signal("run_missing", "x")).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("embedded runtime: cancellation", () => {
  test("cancelling a waiting run ends it as cancelled and its result throws", async () => {
    const wf = workflow({ name: "forever", run: async (_: void, ctx) => ctx.waitForSignal("never") });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    const info = await rt.cancel(run.id, { reason: "operator" });
    expect(info.status).toBe("cancelled");
    await expect(run.result()).rejects.toMatchObject({ name: "CancelledError", code: "cancelled" });
    const { ops } = await rt.inspect(run.id);
    expect(ops[0]).toMatchObject({ kind: "signal", status: "cancelled" });
    await expect(rt.signal(run.id, "never")).rejects.toMatchObject({ code: "run_finished" });
  });

  test("cancelling a running step aborts its signal and drops its result", async () => {
    let aborted = false;
    let release: () => void = () => {};
    const entered = Promise.withResolvers<void>();
    const wf = workflow({
      name: "busy",
      run: async (_: void, ctx) =>
        ctx.step("long", (step) => {
          step.signal.addEventListener("abort", () => (aborted = true));
          entered.resolve();
          return new Promise<string>((resolve) => (release = () => resolve("late")));
        }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await entered.promise;
    await rt.cancel(run.id);
    expect(aborted).toBe(true);
    release();
    await expect(run.result()).rejects.toMatchObject({ code: "cancelled" });
    await rt.inspect(run.id).then(({ ops }) => expect(ops).toEqual([]));
  });
});
