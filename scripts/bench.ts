/**
 * `bun run bench [name...]`: throughput, commit latency and replay cost of the embedded runtime,
 * the round trip and throughput of service asks (scripts/bench/asks.ts), the executable
 * (scripts/bench/cli.ts), a worker process's start (scripts/bench/worker-start.ts), the worker pool (scripts/bench/pool.ts), and children and supervision
 * (scripts/bench/children.ts), and the daemon beside a worker blocked for good (scripts/bench/blocked-worker.ts).
 *
 * Results go to stdout as JSON lines (one object per benchmark) so they can be piped and diffed;
 * progress and the human summary go to stderr. Every database lives in one temp dir that is removed
 * on exit, and a watchdog bounds the whole run. Exit code 1 means a benchmark could not run or its
 * result was wrong, not that a target was missed (`pass: false` says that).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../src/embedded/index.ts";
import { runWorkflowActivation, type ActivationHost } from "../src/engine/index.ts";
import { workflow, type WorkflowDefinition } from "../src/sdk/index.ts";
import { createStore } from "../src/store/index.ts";
import { benchAskRoundTrip, benchAsksPerSecond, type AskRoundTripResult, type AsksPerSecondResult } from "./bench/asks.ts";
import { benchCliColdStart, benchCliRunStartWait, benchClientRunStarts, benchDaemonColdStart } from "./bench/cli.ts";
import { benchExec, benchHardStop, benchPoolAsk, benchPoolStepsPerSecond } from "./bench/pool.ts";
import { benchFanOut, benchSupervisionRestart } from "./bench/children.ts";
import { benchTimerLateness } from "./bench/timers.ts";
import { benchBigDatabase, benchScale } from "./bench/scale.ts";
import { benchDashboardPages } from "./bench/dashboard.ts";
import { benchBlockedWorker } from "./bench/blocked-worker.ts";
import { benchPgDaemons } from "./bench/postgres.ts";
import { benchWorkerColdStart } from "./bench/worker-start.ts";
import { emit, log, median, percentile, RESULT_TIMEOUT, round, timeMs, type BenchResult, type LatencySummary } from "./bench/common.ts";

const THROUGHPUT = { workflows: 200, stepsEach: 10, rounds: 3, warmupWorkflows: 50, target: 10_000 };
const LATENCY = { steps: 2_000, warmupSteps: 200 };
const REPLAY = { ops: 1_000, warmups: 5, samples: 20, targetMs: 5 };
const WATCHDOG_MS = 300_000;

// ---------------------------------------------------------------------------------------------
// Workflows

/** `steps` sequential steps, each returning its index; the output is their sum (easy to verify). */
function sumWorkflow(name: string, steps: number): WorkflowDefinition<null, number> {
  return workflow({
    name,
    run: async (_input: null, ctx) => {
      let sum = 0;
      for (let i = 0; i < steps; i++) sum += await ctx.step("add", () => i);
      return sum;
    },
  });
}

const expectedSum = (steps: number) => (steps * (steps - 1)) / 2;

/**
 * Like `sumWorkflow`, but times every `ctx.step` call from inside the workflow. A sample is kept
 * only when the step function actually ran: a replayed step returns from history without a
 * commit and would drag the percentiles down.
 */
function timedWorkflow(name: string, steps: number, samples: number[]): WorkflowDefinition<null, number> {
  return workflow({
    name,
    run: async (_input: null, ctx) => {
      let sum = 0;
      for (let i = 0; i < steps; i++) {
        let executed = false;
        const start = performance.now();
        sum += await ctx.step("add", () => {
          executed = true;
          return i;
        });
        if (executed) samples.push(performance.now() - start);
      }
      return sum;
    },
  });
}

async function openRuntime(database: string, definitions: readonly WorkflowDefinition<null, number>[]): Promise<Runtime> {
  return createRuntime({ database, definitions, logLevel: "silent" });
}

/** Runs one workflow to completion and checks its output. */
async function runOnce(rt: Runtime, definition: WorkflowDefinition<null, number>, expected: number): Promise<string> {
  const handle = await rt.start(definition, null);
  const output = await handle.result({ timeout: RESULT_TIMEOUT });
  if (output !== expected) throw new Error(`${definition.name}: expected output ${expected}, got ${JSON.stringify(output)}`);
  return handle.id;
}

// ---------------------------------------------------------------------------------------------
// 1. steps_per_second

interface ThroughputRound {
  seconds: number;
  stepsPerSecond: number;
  stats: { batches: number; commands: number; largestBatch: number; avgBatch: number };
}

/**
 * One round on a fresh database file, so rounds do not slow down as one file grows and each
 * round's group-commit stats are its own. Opening and closing the runtime are not timed.
 */
async function throughputRound(database: string, workflows: number): Promise<ThroughputRound> {
  const definition = sumWorkflow("bench_throughput", THROUGHPUT.stepsEach);
  const expected = expectedSum(THROUGHPUT.stepsEach);
  const rt = await openRuntime(database, [definition]);
  try {
    const { ms } = await timeMs(() => Promise.all(Array.from({ length: workflows }, () => runOnce(rt, definition, expected))));
    const { batches, commands, largestBatch } = rt.stats;
    const seconds = ms / 1000;
    return {
      seconds: round(seconds, 4),
      stepsPerSecond: Math.round((workflows * THROUGHPUT.stepsEach) / seconds),
      stats: { batches, commands, largestBatch, avgBatch: round(commands / batches, 1) },
    };
  } finally {
    await rt.close();
  }
}

async function benchStepsPerSecond(dir: string): Promise<BenchResult> {
  log(`steps_per_second: warm-up (${THROUGHPUT.warmupWorkflows} workflows)`);
  await throughputRound(join(dir, "throughput-warmup.db"), THROUGHPUT.warmupWorkflows);
  const rounds: ThroughputRound[] = [];
  for (let i = 0; i < THROUGHPUT.rounds; i++) {
    const result = await throughputRound(join(dir, `throughput-${i}.db`), THROUGHPUT.workflows);
    log(`steps_per_second: round ${i + 1}/${THROUGHPUT.rounds}: ${result.stepsPerSecond} steps/s in ${result.seconds}s`);
    rounds.push(result);
  }
  const best = rounds.reduce((a, b) => (b.stepsPerSecond > a.stepsPerSecond ? b : a));
  return {
    bench: "steps_per_second",
    value: best.stepsPerSecond,
    unit: "steps/s",
    target: `>= ${THROUGHPUT.target}`,
    pass: best.stepsPerSecond >= THROUGHPUT.target,
    workflows: THROUGHPUT.workflows,
    stepsPerWorkflow: THROUGHPUT.stepsEach,
    synchronous: "FULL",
    seconds: best.seconds,
    stats: best.stats,
    rounds,
  };
}

// ---------------------------------------------------------------------------------------------
// 2. step_commit_latency

async function benchStepCommitLatency(dir: string): Promise<BenchResult> {
  const samples: number[] = [];
  const warmup = sumWorkflow("bench_latency_warmup", LATENCY.warmupSteps);
  const timed = timedWorkflow("bench_latency", LATENCY.steps, samples);
  const rt = await openRuntime(join(dir, "latency.db"), [warmup, timed]);
  try {
    log(`step_commit_latency: warm-up (${LATENCY.warmupSteps} steps)`);
    await runOnce(rt, warmup, expectedSum(LATENCY.warmupSteps));
    log(`step_commit_latency: ${LATENCY.steps} sequential steps`);
    const { ms } = await timeMs(() => runOnce(rt, timed, expectedSum(LATENCY.steps)));
    if (samples.length !== LATENCY.steps) {
      throw new Error(`step_commit_latency: expected ${LATENCY.steps} executed steps, measured ${samples.length}`);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    return {
      bench: "step_commit_latency",
      value: round(p50),
      unit: "ms (p50)",
      p50Ms: round(p50),
      p99Ms: round(percentile(sorted, 0.99)),
      maxMs: round(sorted[sorted.length - 1]!),
      meanMs: round(samples.reduce((a, b) => a + b, 0) / samples.length),
      samples: samples.length,
      totalMs: round(ms, 1),
      synchronous: "FULL",
    };
  } finally {
    await rt.close();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. replay_1000_ops

/** A host for a replay of a finished run: everything is recorded, so any call into it is a bug. */
function refusingHost(): ActivationHost {
  const refuse = (what: string) => () => {
    throw new Error(`replay called host.${what}: an op was not found in history`);
  };
  return {
    report: refuse("report"),
    post: refuse("post"),
    printLog: refuse("printLog"),
    now: () => Date.now(),
    signal: new AbortController().signal,
  };
}

async function buildHistory(database: string, definition: WorkflowDefinition<null, number>): Promise<string> {
  const rt = await openRuntime(database, [definition]);
  try {
    return await runOnce(rt, definition, expectedSum(REPLAY.ops));
  } finally {
    await rt.close();
  }
}

async function benchReplay(dir: string): Promise<BenchResult> {
  const database = join(dir, "replay.db");
  const definition = sumWorkflow("bench_replay", REPLAY.ops);
  log(`replay_1000_ops: building a ${REPLAY.ops}-op history`);
  const runId = await buildHistory(database, definition);
  const expectedOutput = JSON.stringify(expectedSum(REPLAY.ops));
  const host = refusingHost();

  const store = createStore(database);
  try {
    const ops = await store.listOps(runId);
    if (ops.length !== REPLAY.ops || ops.some((op) => op.status !== "completed")) {
      throw new Error(`replay_1000_ops: expected ${REPLAY.ops} completed ops, found ${ops.length}`);
    }
    const replay = async (history = ops) => {
      // The cast only widens the input type (the engine takes any definition).
      const result = await runWorkflowActivation(definition as WorkflowDefinition, { runId, project: "", input: null, ops: history }, host);
      if (result.type !== "completed" || result.output !== expectedOutput) {
        throw new Error(`replay_1000_ops: replay ended ${JSON.stringify(result)}, expected completed with output ${expectedOutput}`);
      }
    };
    const measure = async (fn: () => Promise<void>) => {
      for (let i = 0; i < REPLAY.warmups; i++) await fn();
      const times: number[] = [];
      for (let i = 0; i < REPLAY.samples; i++) times.push((await timeMs(fn)).ms);
      return times;
    };

    log(`replay_1000_ops: ${REPLAY.samples} replays from memory, then ${REPLAY.samples} with loading`);
    const replayTimes = await measure(() => replay());
    const loadTimes = await measure(async () => replay(await store.listOps(runId)));
    const value = median(replayTimes);
    return {
      bench: "replay_1000_ops",
      value: round(value),
      unit: "ms (median)",
      target: `< ${REPLAY.targetMs}`,
      pass: value < REPLAY.targetMs,
      ops: ops.length,
      samples: REPLAY.samples,
      minMs: round(Math.min(...replayTimes)),
      maxMs: round(Math.max(...replayTimes)),
      withLoadMedianMs: round(median(loadTimes)),
      withLoadMaxMs: round(Math.max(...loadTimes)),
    };
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------

function printSummary(results: readonly BenchResult[]): void {
  const rows = results.map((r) => [r.bench, `${r.value} ${r.unit}`, r.target ?? "-", r.pass === undefined ? "-" : r.pass ? "ok" : "MISSED"]);
  const header = ["benchmark", "result", "target", "status"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("  ");
  const latency = results.find((r) => r.bench === "step_commit_latency");
  const replay = results.find((r) => r.bench === "replay_1000_ops");
  const ask = results.find((r) => r.bench === "ask_round_trip") as AskRoundTripResult | undefined;
  const asks = results.find((r) => r.bench === "asks_per_second") as AsksPerSecondResult | undefined;
  const spread = (s: LatencySummary) => `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`;
  process.stderr.write(
    [
      "",
      line(header),
      line(widths.map((w) => "-".repeat(w))),
      ...rows.map(line),
      "",
      latency ? `step latency: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms` : "",
      replay ? `replay incl. loading ops from SQLite: median ${replay.withLoadMedianMs} ms` : "",
      ...(ask
        ? [
            `ask, ${ask.workflowAskSequential.samples} in one workflow (target): ${spread(ask.workflowAskSequential)}`,
            `ask, one per workflow, inside it:    ${spread(ask.workflowAskOnePerRun)}`,
            `one-ask workflow, start → result:    ${spread(ask.oneAskRunStartToResult)}`,
            `ask from a script (rt.connect ref):  ${spread(ask.scriptRefAsk)}`,
          ]
        : []),
      asks ? `asks/s: ${asks.workflows.asksPerSecond} through one-ask workflows (target), ${asks.scriptRefs.asksPerSecond} through rt.connect refs` : "",
      "",
    ].join("\n"),
  );
}

const BENCHES: Record<string, (dir: string) => Promise<BenchResult>> = {
  steps_per_second: benchStepsPerSecond,
  step_commit_latency: benchStepCommitLatency,
  replay_1000_ops: benchReplay,
  ask_round_trip: benchAskRoundTrip,
  asks_per_second: benchAsksPerSecond,
  cli_cold_start: benchCliColdStart,
  cli_run_start_wait: benchCliRunStartWait,
  client_run_starts: benchClientRunStarts,
  daemon_cold_start: benchDaemonColdStart,
  worker_cold_start: benchWorkerColdStart,
  pool_steps_per_second: benchPoolStepsPerSecond,
  hard_stop: benchHardStop,
  exec_overhead: benchExec,
  pool_ask_round_trip: benchPoolAsk,
  fanout_100_children: benchFanOut,
  supervision_restart: benchSupervisionRestart,
  timer_lateness: benchTimerLateness,
  w1_at_scale: benchScale,
  big_database_reads: benchBigDatabase,
  dashboard_pages: benchDashboardPages,
  daemon_beside_blocked_worker: benchBlockedWorker,
  pg_daemons: benchPgDaemons,
};

async function main(): Promise<void> {
  // `bun run bench [name...]` runs only the named benchmarks (all by default).
  const names = process.argv.slice(2);
  const unknown = names.filter((name) => !Object.hasOwn(BENCHES, name));
  if (unknown.length > 0) throw new Error(`unknown benchmark(s) ${unknown.join(", ")}; known: ${Object.keys(BENCHES).join(", ")}`);
  const selected = Object.entries(BENCHES).filter(([name]) => names.length === 0 || names.includes(name));
  const dir = mkdtempSync(join(tmpdir(), "vilano-bench-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  // Runs can hang only through a bug; cleanup must still happen and the process must end.
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${WATCHDOG_MS / 1000}s, giving up`);
    cleanup();
    process.exit(2);
  }, WATCHDOG_MS);
  watchdog.unref();
  process.once("SIGINT", () => {
    cleanup();
    process.exit(130);
  });

  log(`temp dir ${dir}`);
  const results: BenchResult[] = [];
  try {
    for (const [name, bench] of selected) {
      log(`--- ${name}`);
      const result = await bench(dir);
      emit(result);
      results.push(result);
    }
  } finally {
    clearTimeout(watchdog);
    cleanup();
  }
  printSummary(results);
}

main().catch((error) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
