/**
 * Children and supervision, in-process: a fan-out of 100 one-step children (parent start →
 * result) and the restart of a supervised member (the failed run's commit → its replacement's
 * code running).
 */
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { nonRetryable, workflow } from "../../src/sdk/index.ts";
import { check, log, median, RESULT_TIMEOUT, round, summarize, timeMs, type BenchResult } from "./common.ts";

const FANOUT = { children: 100, warmups: 2, samples: 7, targetMs: 100 };
const RESTART = { restarts: 60, warmups: 5, targetMs: 20 };

const leaf = workflow({ name: "leaf", run: async (input: { n: number }, ctx) => ctx.step("one", () => input.n) });
const fanOut = workflow({
  name: "fanOut",
  run: async (input: { children: number }, ctx) => {
    const children = Array.from({ length: input.children }, (_, n) => ctx.spawn(leaf, { n }, { key: `leaf-${n}` }));
    const values = await Promise.all(children.map((c) => c.result()));
    return values.reduce((a, b) => a + b, 0);
  },
});

export async function benchFanOut(dir: string): Promise<BenchResult> {
  await using rt = await createRuntime({ database: join(dir, "fanout.sqlite"), definitions: [leaf, fanOut], logLevel: "silent" });
  const expected = (FANOUT.children * (FANOUT.children - 1)) / 2;
  const samples: number[] = [];
  for (let i = 0; i < FANOUT.warmups + FANOUT.samples; i++) {
    const { ms, value } = await timeMs(async () => (await rt.start(fanOut, { children: FANOUT.children })).result({ timeout: RESULT_TIMEOUT }));
    check(value === expected, `fanOut: expected ${expected}, got ${JSON.stringify(value)}`);
    if (i >= FANOUT.warmups) samples.push(ms);
  }
  const p50 = median(samples);
  log(`fan-out of ${FANOUT.children} children: p50 ${round(p50, 1)} ms (target < ${FANOUT.targetMs} ms)`);
  return {
    bench: "fanout_100_children",
    value: round(p50, 1),
    unit: "ms",
    target: `< ${FANOUT.targetMs} ms parent start → result, in-process`,
    pass: p50 < FANOUT.targetMs,
    ...summarize(samples),
  };
}

const restartee = workflow({
  name: "restartee",
  run: async (_input: void, ctx) => {
    await ctx.step("started", () => Date.now());
    const verdict = await ctx.waitForSignal<{ ok: boolean }>("verdict");
    if (!verdict.ok) throw nonRetryable(new Error("told to fail"));
    return "done";
  },
});
const keeper = workflow({
  name: "keeper",
  run: async (_input: void, ctx) => ctx.supervise({ maxRestarts: 1_000, window: "1m" }).spawn(restartee, undefined, { key: "m" }).result(),
});

export async function benchSupervisionRestart(dir: string): Promise<BenchResult> {
  await using rt = await createRuntime({ database: join(dir, "restart.sqlite"), definitions: [restartee, keeper], logLevel: "silent" });
  const owner = await rt.start(keeper);
  /** The member's current run once its replacement has run its first step: its id and when that step ran. */
  const currentStarted = async (notId: string | null): Promise<{ id: string; startedAt: number }> => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await Bun.sleep(1)) {
      const id = (await rt.inspect(owner.id)).supervision[0]?.members[0]?.runId;
      if (!id || id === notId) continue;
      const step = (await rt.inspect(id)).ops.find((op) => op.opKey === "step:started:0" && op.status === "completed");
      if (step && (await rt.status(id)) === "waiting") return { id, startedAt: step.result as number };
    }
    throw new Error("the member's replacement did not start within 10 s");
  };
  const samples: number[] = [];
  // Also from the moment the failing signal is sent: its commit, the member's turn and its failure included.
  const fromSignal: number[] = [];
  let current = await currentStarted(null);
  for (let i = 0; i < RESTART.warmups + RESTART.restarts; i++) {
    const sentAt = Date.now();
    await rt.signal(current.id, "verdict", { ok: false });
    const next = await currentStarted(current.id);
    const failedAt = (await rt.inspect(current.id)).run.finishedAt!;
    if (i >= RESTART.warmups) {
      samples.push(next.startedAt - failedAt);
      fromSignal.push(next.startedAt - sentAt);
    }
    current = next;
  }
  await rt.signal(current.id, "verdict", { ok: true });
  check((await owner.result({ timeout: RESULT_TIMEOUT })) === "done", "keeper: expected done");
  const summary = summarize(samples);
  log(`supervision restart: p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms (target < ${RESTART.targetMs} ms)`);
  return {
    bench: "supervision_restart",
    value: summary.p50Ms,
    unit: "ms",
    target: `< ${RESTART.targetMs} ms from the failed run's commit to its replacement's code running, in-process`,
    pass: summary.p50Ms < RESTART.targetMs,
    ...summary,
    fromSignalP50Ms: round(median(fromSignal), 1),
  };
}
