/**
 * Benchmarks of the worker pool (user code in worker processes, as in the daemon): steps per second
 * beside the in-process runner on the same machine and run, the hard stop (deadline → the retry
 * running on a fresh worker), the cost of a `ctx.exec` of /bin/true, and an ask's round trip.
 * The code lives in a small project written to the temp dir, which the workers import.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { buildManifest, installSdkModule, scanDefinitions } from "../../src/project/index.ts";
import { check, log, median, RESULT_TIMEOUT, round, summarize, timeMs, type BenchResult } from "./common.ts";

const THROUGHPUT = { workflows: 200, stepsEach: 10, rounds: 3, warmupWorkflows: 50, target: 10_000, ratioTarget: 0.5 };
const HARD_STOP = { timeoutMs: 200, samples: 5, targetMs: 150 };
const EXEC = { calls: 200, warmup: 20, targetMs: 5 };
const ASK = { asks: 500, warmup: 50, targetMs: 1.5 };
const WORKERS = 2;

const SOURCE = `import { writeFileSync } from "node:fs";
import { service, workflow } from "@vilano/runtime";

export const sum = workflow({
  name: "sum",
  run: async (input: { steps: number }, ctx) => {
    let total = 0;
    for (let i = 0; i < input.steps; i++) total += await ctx.step("add", () => i);
    return total;
  },
});

export const hardStop = workflow({
  name: "hardStop",
  run: async (input: { marker: string; timeoutMs: number }, ctx) =>
    ctx.step(
      "spin",
      (step) => {
        if (step.attempt === 1) {
          writeFileSync(input.marker, String(Date.now()));
          for (;;);
        }
        return Date.now();
      },
      { timeout: input.timeoutMs, retry: { retries: 1, backoff: "0ms" } },
    ),
});

export const execTrue = workflow({
  name: "execTrue",
  run: async (input: { calls: number }, ctx) => {
    const samples: number[] = [];
    for (let i = 0; i < input.calls; i++) {
      const started = performance.now();
      await ctx.exec({ name: "true", cmd: "/bin/true" });
      samples.push(performance.now() - started);
    }
    return samples;
  },
});

export const echo = service({
  name: "echo",
  key: (input: { id: string }) => input.id,
  onAsk: { ping: (n: number) => ({ reply: n }) },
});

/**
 * Round trips measured across activations: the first time the code reaches an ask marks when it
 * was sent, the first time the ask returns marks when its reply arrived (maybe after a replay of
 * the history before it). The marks live in this worker's memory (the bench uses one worker).
 */
const sent = new Map<string, number>();
const replied = new Map<string, number>();

export const askMany = workflow({
  name: "askMany",
  run: async (input: { asks: number; tag: string }, ctx) => {
    const ref = await ctx.connect(echo, { id: input.tag });
    for (let i = 0; i < input.asks; i++) {
      const label = input.tag + ":" + i;
      if (!sent.has(label)) sent.set(label, performance.now());
      const reply = await ref.ask.ping(i);
      if (!replied.has(label)) replied.set(label, performance.now());
      if (reply !== i) throw new Error("wrong reply " + reply);
    }
    return Array.from({ length: input.asks }, (_, i) => replied.get(input.tag + ":" + i)! - sent.get(input.tag + ":" + i)!);
  },
});
`;

function writeBenchProject(dir: string): string {
  const project = join(dir, "pool-project");
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "bench.ts"), SOURCE);
  writeFileSync(join(project, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(project))));
  return project;
}

async function poolRuntime(dir: string, database: string, workers = WORKERS): Promise<Runtime> {
  const workspace = join(dir, "work");
  mkdirSync(workspace, { recursive: true });
  return createRuntime({ database: join(dir, database), workers, project: writeBenchProject(dir), workspace, logLevel: "silent" });
}

async function inProcessRuntime(dir: string, database: string): Promise<Runtime> {
  installSdkModule();
  const definitions = Object.values(await import(join(writeBenchProject(dir), "src", "bench.ts")));
  return createRuntime({ database: join(dir, database), definitions, logLevel: "silent" });
}

/** All workflows at once on a fresh file; opening and closing are not timed. */
async function throughputRound(rt: Runtime, workflows: number): Promise<number> {
  const expected = (THROUGHPUT.stepsEach * (THROUGHPUT.stepsEach - 1)) / 2;
  const { ms } = await timeMs(() =>
    Promise.all(
      Array.from({ length: workflows }, async () => {
        const output = await (await rt.start("sum", { steps: THROUGHPUT.stepsEach })).result({ timeout: RESULT_TIMEOUT });
        check(output === expected, `pool_steps_per_second: expected ${expected}, got ${JSON.stringify(output)}`);
      }),
    ),
  );
  return Math.round((workflows * THROUGHPUT.stepsEach) / (ms / 1000));
}

export async function benchPoolStepsPerSecond(dir: string): Promise<BenchResult> {
  const rounds: { pool: number; inProcess: number }[] = [];
  for (let i = 0; i < THROUGHPUT.rounds; i++) {
    // Side by side in each round, so both see the same machine.
    const inProc = await inProcessRuntime(dir, `inproc-${i}.db`);
    let inProcess: number;
    try {
      if (i === 0) await throughputRound(inProc, THROUGHPUT.warmupWorkflows);
      inProcess = await throughputRound(inProc, THROUGHPUT.workflows);
    } finally {
      await inProc.close();
    }
    const pool = await poolRuntime(dir, `pool-${i}.db`);
    let pooled: number;
    try {
      // Fresh worker processes start cold (no JIT yet): warm them with a full round first.
      await throughputRound(pool, THROUGHPUT.workflows);
      pooled = await throughputRound(pool, THROUGHPUT.workflows);
    } finally {
      await pool.close();
    }
    log(`pool_steps_per_second: round ${i + 1}/${THROUGHPUT.rounds}: pool ${pooled} steps/s, in-process ${inProcess} steps/s`);
    rounds.push({ pool: pooled, inProcess });
  }
  const pool = Math.max(...rounds.map((r) => r.pool));
  const inProcess = Math.max(...rounds.map((r) => r.inProcess));
  const ratio = round(pool / inProcess, 2);
  return {
    bench: "pool_steps_per_second",
    value: pool,
    unit: "steps/s",
    target: `>= ${THROUGHPUT.target} and >= ${THROUGHPUT.ratioTarget * 100}% of in-process`,
    pass: pool >= THROUGHPUT.target && ratio >= THROUGHPUT.ratioTarget,
    inProcessStepsPerSecond: inProcess,
    ratioToInProcess: ratio,
    workers: WORKERS,
    workflows: THROUGHPUT.workflows,
    stepsPerWorkflow: THROUGHPUT.stepsEach,
    synchronous: "FULL",
    rounds,
  };
}

export async function benchHardStop(dir: string): Promise<BenchResult> {
  const rt = await poolRuntime(dir, "hard-stop.db");
  const samples: number[] = [];
  try {
    for (let i = 0; i < HARD_STOP.samples; i++) {
      const marker = join(dir, "work", `spin-${i}.start`);
      const retryStarted = (await (await rt.start("hardStop", { marker, timeoutMs: HARD_STOP.timeoutMs })).result({ timeout: RESULT_TIMEOUT })) as number;
      const firstStarted = Number(readFileSync(marker, "utf8"));
      samples.push(retryStarted - (firstStarted + HARD_STOP.timeoutMs));
    }
  } finally {
    await rt.close();
  }
  const value = median(samples);
  log(`hard_stop: deadline → retry running on a fresh worker: ${samples.join(", ")} ms`);
  return {
    bench: "hard_stop",
    value,
    unit: "ms (median, deadline → retry running on a fresh worker)",
    target: `< ${HARD_STOP.targetMs}`,
    pass: value < HARD_STOP.targetMs,
    samples,
    stepTimeoutMs: HARD_STOP.timeoutMs,
  };
}

/** Runs `workflow` once to warm up, then once measured, on one worker; its output is the latency samples. */
async function samplesFrom(dir: string, database: string, workflow: string, warmup: unknown, measured: unknown): Promise<number[]> {
  const rt = await poolRuntime(dir, database, 1);
  try {
    await (await rt.start(workflow, warmup)).result({ timeout: RESULT_TIMEOUT });
    return (await (await rt.start(workflow, measured)).result({ timeout: RESULT_TIMEOUT })) as number[];
  } finally {
    await rt.close();
  }
}

/** A latency bench's result: its p50 against a target, with the whole summary. */
function latencyResult(bench: string, unit: string, samples: number[], targetMs: number): BenchResult {
  const summary = summarize(samples);
  return { bench, value: summary.p50Ms, unit, target: `p50 < ${targetMs}`, pass: summary.p50Ms < targetMs, ...summary };
}

export async function benchExec(dir: string): Promise<BenchResult> {
  const samples = await samplesFrom(dir, "exec.db", "execTrue", { calls: EXEC.warmup }, { calls: EXEC.calls });
  check(samples.length === EXEC.calls, `exec_overhead: expected ${EXEC.calls} samples, got ${samples.length}`);
  return latencyResult("exec_overhead", "ms (p50 per ctx.exec of /bin/true, recorded)", samples, EXEC.targetMs);
}

export async function benchPoolAsk(dir: string): Promise<BenchResult> {
  const samples = await samplesFrom(dir, "pool-ask.db", "askMany", { asks: ASK.warmup, tag: "warmup" }, { asks: ASK.asks, tag: "measured" });
  check(samples.length === ASK.asks, `pool_ask_round_trip: expected ${ASK.asks} samples, got ${samples.length}`);
  return latencyResult("pool_ask_round_trip", "ms (p50, workflow → service → reply, through a worker)", samples, ASK.targetMs);
}
