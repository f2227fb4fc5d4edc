/**
 * Timer lateness as the side-by-side harness measures it (W3): 200 workflows start at once, each
 * notes the wall clock right before `ctx.sleep("200ms")` (first execution only) and again on the
 * first statement after it; lateness = woke − (called + 200 ms). Measured in-process and through
 * the worker pool. A timer that fires early fails the bench.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { buildManifest, installSdkModule, scanDefinitions } from "../../src/project/index.ts";
import { check, log, RESULT_TIMEOUT, round, summarize, type BenchResult } from "./common.ts";

const TIMERS = { workflows: 200, sleepMs: 200, warmup: 20, targetP50Ms: 2, targetP99Ms: 5 };

const SOURCE = `import { workflow } from "@vilano/runtime";

// First-execution marks, kept in the process that runs the code (a replay must not move them).
const calledAt = new Map<string, number>();

export const timer = workflow({
  name: "timer",
  run: async (input: { sleepMs: number }, ctx) => {
    if (!calledAt.has(ctx.runId)) calledAt.set(ctx.runId, Date.now());
    await ctx.sleep(input.sleepMs);
    const woke = Date.now();
    return { due: calledAt.get(ctx.runId)! + input.sleepMs, woke };
  },
});
`;

function writeProject(dir: string): string {
  const project = join(dir, "timer-project");
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "timers.ts"), SOURCE);
  writeFileSync(join(project, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(project))));
  return project;
}

/** Lateness of each of `count` concurrent sleeps, in ms. */
async function lateness(rt: Runtime, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const { due, woke } = (await (await rt.start("timer", { sleepMs: TIMERS.sleepMs })).result({ timeout: RESULT_TIMEOUT })) as { due: number; woke: number };
      return woke - due;
    }),
  );
}

async function measure(rt: Runtime, label: string) {
  try {
    await lateness(rt, TIMERS.warmup);
    const samples = await lateness(rt, TIMERS.workflows);
    const early = samples.filter((ms) => ms < 0);
    check(early.length === 0, `timer_lateness (${label}): ${early.length} timers fired early (by up to ${-Math.min(...early)} ms)`);
    const summary = summarize(samples);
    log(`${label}: lateness p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms over ${samples.length} sleeps`);
    return { ...summary, minMs: round(Math.min(...samples)) };
  } finally {
    await rt.close();
  }
}

export async function benchTimerLateness(dir: string): Promise<BenchResult> {
  const project = writeProject(dir);
  installSdkModule();
  const definitions = Object.values(await import(join(project, "src", "timers.ts")));
  const inProcess = await measure(await createRuntime({ database: join(dir, "timers-inproc.db"), definitions, logLevel: "silent" }), "in-process");
  const workspace = join(dir, "timers-work");
  mkdirSync(workspace, { recursive: true });
  const pool = await measure(await createRuntime({ database: join(dir, "timers-pool.db"), workers: 2, project, workspace, logLevel: "silent" }), "worker pool");
  return {
    bench: "timer_lateness",
    value: pool.p50Ms,
    unit: "ms (p50, worker pool)",
    target: `p50 < ${TIMERS.targetP50Ms} ms, p99 < ${TIMERS.targetP99Ms} ms (${TIMERS.workflows} concurrent ${TIMERS.sleepMs} ms sleeps)`,
    pass: pool.p50Ms < TIMERS.targetP50Ms && pool.p99Ms < TIMERS.targetP99Ms,
    pool,
    inProcess,
  };
}
