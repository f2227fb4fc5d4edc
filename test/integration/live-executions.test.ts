/**
 * Live executions (engine/live-executions.ts): code suspended on durable waits is resumed by its
 * run's next activation instead of replayed. What must hold: the same output and the same history
 * as a replay from the top; a sleep never ends before its due time, however far ahead the kernel
 * fires it; a capped store evicts, and evicted runs replay to the same result.
 */
import { describe, expect, test } from "bun:test";
import { type Runtime } from "../../src/embedded/index.ts";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { reviewer } from "../helpers/reviewer.ts";
import { eventually } from "../helpers/temp-dir.ts";

/** Steps, sleeps, a signal, parallel branches, an ask and a timeout: every kind of wait a resume hands over. */
const mixed = workflow({
  name: "mixed",
  run: async (input: { n: number }, ctx) => {
    const a = await ctx.step("a", () => input.n + 1);
    await ctx.sleep(15);
    const [b, slept] = await Promise.all([ctx.step("b", async () => (await Bun.sleep(5), a * 2)), ctx.sleep(10).then(() => "slept")]);
    const ref = await ctx.connect(reviewer, { repoId: `live-${input.n}` });
    await ref.send.hint({ note: `n${input.n}` });
    const status = await ref.ask.status();
    const signal = await ctx.waitForSignal("go");
    const missed = await ctx.waitForSignal("never", { timeout: "20ms" }).then(
      () => "arrived",
      (error: { code?: string }) => error.code,
    );
    await ctx.sleep(5);
    const c = await ctx.step("c", () => `${b}-${slept}-${status.noteCount}-${JSON.stringify(signal)}-${missed}`);
    return { a, b, c };
  },
});

/** The due time of the run's first sleep, once its timeline has it. */
async function sleepDueAt(rt: Runtime, runId: string): Promise<number | undefined> {
  const scheduled = (await rt.inspect(runId)).events.find((e) => e.type === "timer_scheduled") as { wakeAt?: number } | undefined;
  return scheduled?.wakeAt;
}

/** Resolves at wall-clock time `at`. */
const untilTime = (at: number) => Bun.sleep(Math.max(0, at - Date.now()));

/** What a run recorded, without the parts that depend on when things happened. */
async function recorded(rt: Runtime, runId: string) {
  const { ops, events } = await rt.inspect(runId);
  return {
    ops: ops.map((op) => [op.opKey, op.kind, op.status, op.kind === "sleep" ? "(due time)" : op.result]),
    // Whether the run parked before an outcome landed depends on timing, in either mode.
    events: events.map((e) => e.type).filter((type) => type !== "run_waiting" && type !== "run_resumed"),
  };
}

async function runMixed(liveExecutions: number | undefined) {
  await using rt = await createRuntime({ definitions: [reviewer, mixed], logLevel: "silent", ...(liveExecutions === undefined ? {} : { liveExecutions }) });
  const run = await rt.start(mixed, { n: 4 }, { id: "mixed-4" });
  await eventually(async () => ((await rt.inspect(run.id)).ops.some((op) => op.opKey === "signal:go:0") ? true : undefined), 5_000, "the signal wait");
  await rt.signal(run.id, "go", { please: true });
  const output = await run.result({ timeout: "10s" });
  return { output, history: await recorded(rt, run.id), live: rt.liveExecutions() };
}

describe("live executions", () => {
  test("a run resumed from a live execution and the same run replayed from history give the same output and history", async () => {
    const live = await runMixed(undefined);
    const replayed = await runMixed(0);
    expect(live.live.resumed).toBeGreaterThan(0);
    expect(replayed.live).toEqual({ parked: 0, resumed: 0, evicted: 0, stale: 0 });
    expect(live.output).toEqual({ a: 5, b: 10, c: '10-slept-1-{"please":true}-signal_timeout' });
    expect(live.output).toEqual(replayed.output);
    expect(live.history).toEqual(replayed.history);
  });

  test.each([["live", undefined], ["replayed", 0]] as const)("a sleep never ends before its due time (%s)", async (_mode, liveExecutions) => {
    const calledAt = new Map<string, number>();
    const napper = workflow({
      name: "napper",
      run: async (input: { ms: number }, ctx) => {
        if (!calledAt.has(ctx.runId)) calledAt.set(ctx.runId, Date.now());
        await ctx.sleep(input.ms);
        return { due: calledAt.get(ctx.runId)! + input.ms, woke: Date.now() };
      },
    });
    await using rt = await createRuntime({ definitions: [napper], logLevel: "silent", ...(liveExecutions === undefined ? {} : { liveExecutions }) });
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => (await (await rt.start(napper, { ms: 5 + ((i * 7) % 120) })).result({ timeout: "10s" })) as { due: number; woke: number }),
    );
    const early = outcomes.filter((o) => o.woke < o.due);
    expect(early).toEqual([]);
  });

  test("past its cap the store evicts the oldest; evicted runs replay to the same result", async () => {
    let starts = 0;
    const sleeper = workflow({
      name: "sleeper",
      run: async (input: { i: number }, ctx) => {
        starts++;
        const before = await ctx.step("before", () => input.i);
        await ctx.sleep(30);
        return before * 10;
      },
    });
    await using rt = await createRuntime({ definitions: [sleeper], logLevel: "silent", liveExecutions: 5 });
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => rt.start(sleeper, { i })));
    const outputs = await Promise.all(runs.map((run) => run.result({ timeout: "10s" })));
    expect(outputs).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
    const stats = rt.liveExecutions();
    expect(stats.evicted).toBe(15);
    expect(stats.resumed).toBe(5);
    // Each evicted run ran its code from the top a second time; the resumed ones did not.
    expect(starts).toBe(20 + 15);
  });

  test("a sleep beside other open waits is not fired ahead: replays keep the order, and a signal just before its due time wins", async () => {
    const branches = workflow({
      name: "branches",
      run: async (_: void, ctx) => {
        const [a, b] = await Promise.all([
          (async () => (await ctx.sleep(100), ctx.step("a", () => "A")))(),
          (async () => {
            await ctx.step("pre", () => 0);
            await ctx.step("slow", async () => (await Bun.sleep(70), 1));
            return ctx.step("b", () => "B");
          })(),
        ]);
        await ctx.sleep(50); // another activation: a replay from the top
        return `${a}${b}`;
      },
    });
    const race = workflow({
      name: "race",
      run: async (_: void, ctx) => Promise.race([ctx.sleep(300).then(() => "timeout"), ctx.waitForSignal("x").then(() => "signal")]),
    });
    await using rt = await createRuntime({ definitions: [branches, race], logLevel: "silent", liveExecutions: 0 });
    const outputs = await Promise.all(Array.from({ length: 5 }, async () => (await rt.start(branches)).result({ timeout: "10s" })));
    expect(outputs).toEqual(Array(5).fill("AB"));
    const runs = await Promise.all(Array.from({ length: 5 }, () => rt.start(race)));
    // Each sleep's due time, from its timeline once recorded; the signals go 30 ms before the first.
    const dueTimes = await Promise.all(runs.map((run) => eventually(async () => sleepDueAt(rt, run.id), 5_000, "the sleep to be recorded")));
    await untilTime(Math.min(...dueTimes) - 30);
    await Promise.all(runs.map((run) => rt.signal(run.id, "x")));
    expect(await Promise.all(runs.map((run) => run.result({ timeout: "10s" })))).toEqual(Array(5).fill("signal"));
  });

  test("a run cancelled while its code waits for the due time of a sleep fired ahead never runs the code after it", async () => {
    // The window is the sleep's lead (50 ms at first): on a busy machine the cancel may land after
    // the due time, when the code has rightly gone on. Each try that lands inside it counts; at
    // least one of five must.
    let inWindow = 0;
    for (let attempt = 0; attempt < 5 && inWindow === 0; attempt++) {
      let after: number | null = null;
      const napper = workflow({
        name: "cancelledNapper",
        run: async (_: void, ctx) => {
          await ctx.sleep(400);
          after = Date.now();
          return "woke";
        },
      });
      await using rt = await createRuntime({ definitions: [napper], logLevel: "silent" });
      const run = await rt.start(napper);
      const dueAt = await eventually(async () => sleepDueAt(rt, run.id), 5_000, "the sleep to be recorded");
      // Fired ahead of its due time: the code now waits for the due time.
      await eventually(async () => ((await rt.inspect(run.id)).ops.some((op) => op.kind === "sleep" && op.status === "completed") ? true : undefined), 5_000, "the sleep to fire ahead");
      await rt.cancel(run.id);
      expect(await rt.status(run.id)).toBe("cancelled");
      if (after !== null) continue; // the code went on before the cancel was acknowledged: not this case
      inWindow++;
      // What is checked is that nothing happens by a time: had the code gone on, it would have by then.
      await untilTime(dueAt + 100);
      expect(after).toBeNull();
    }
    expect(inWindow).toBe(1);
  });
});
