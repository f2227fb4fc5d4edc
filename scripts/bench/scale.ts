/**
 * Scale: the harness's W1 (300 ten-step workflows at concurrency 16, in-process) alone, beside
 * 10,000 workflows in flight (waiting on a signal, parked in memory), and on a database of
 * 1,000,000 runs. What must stay flat (within 20 % of W1 alone): steps/s, start-to-result p99,
 * resident memory and the bytes each run adds to the disk. And on the big file, list pages and
 * the inspection of one run under 5 ms each.
 */
import { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { openSyncStore } from "../../src/store/index.ts";
import { encodeRunCursor } from "../../src/shared/index.ts";
import { workflow } from "../../src/sdk/index.ts";
import { check, log, percentile, RESULT_TIMEOUT, round, type BenchResult } from "./common.ts";

const W1 = { workflows: 300, concurrency: 16, steps: 10, warmup: 32, flatWithin: 0.2 };
const BACKLOG = { waiting: 10_000 };
const BIG = { runs: 1_000_000, samples: 200, targetMs: 5 };

const steps = workflow({
  name: "BenchSteps",
  run: async (input: { i: number }, ctx) => {
    let sum = 0;
    for (let k = 1; k <= W1.steps; k++) sum += (await ctx.step(`s${k}`, () => ({ v: k * input.i }))).v;
    return sum;
  },
});

/** In flight without end: waits for a signal that never comes (parked in memory, as live executions). */
const waiter = workflow({
  name: "Waiter",
  run: async (input: { i: number }, ctx) => {
    await ctx.step("before", () => input.i);
    return ctx.waitForSignal("never");
  },
});

type Runtime = Awaited<ReturnType<typeof createRuntime>>;

/** W1 of the harness, in-process: 300 workflows at concurrency 16, each started and awaited. */
async function w1(rt: Runtime, database: string, tag: string) {
  const run = async (count: number, prefix: string) => {
    const latencies: number[] = [];
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: W1.concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const started = performance.now();
          const output = await (await rt.start(steps, { i }, { id: `${prefix}-${i}` })).result({ timeout: RESULT_TIMEOUT });
          check(output === 55 * i, `scale: workflow ${i} returned ${JSON.stringify(output)}`);
          latencies.push(performance.now() - started);
        }
      }),
    );
    return { seconds: (performance.now() - began) / 1000, latencies: latencies.sort((a, b) => a - b) };
  };
  const prefix = tag.replace(/[^A-Za-z0-9]+/g, "-");
  await run(W1.warmup, `${prefix}-warm`);
  const sizeBefore = fileSize(database);
  const { seconds, latencies } = await run(W1.workflows, prefix);
  Bun.gc(true);
  const result = {
    stepsPerSecond: Math.round((W1.workflows * W1.steps) / seconds),
    p99Ms: round(percentile(latencies, 0.99), 1),
    rssMiB: round(process.memoryUsage().rss / 2 ** 20, 1),
    bytesPerRun: Math.round((fileSize(database) - sizeBefore) / W1.workflows),
  };
  log(`W1 ${tag}: ${result.stepsPerSecond} steps/s, p99 ${result.p99Ms} ms, rss ${result.rssMiB} MiB, ${result.bytesPerRun} bytes per run in the database`);
  return result;
}

/** The database's size in pages, as committed (its write-ahead log included): what runs add to it. */
function fileSize(database: string): number {
  const db = new Database(database, { readonly: true });
  try {
    const pages = db.query<{ page_count: number }, []>("PRAGMA page_count").get()!.page_count;
    const size = db.query<{ page_size: number }, []>("PRAGMA page_size").get()!.page_size;
    return pages * size;
  } finally {
    db.close();
  }
}

type W1Result = Awaited<ReturnType<typeof w1>>;
const ratios = (load: W1Result, base: W1Result) => ({
  stepsPerSecond: round(load.stepsPerSecond / base.stepsPerSecond, 2),
  p99: round(load.p99Ms / base.p99Ms, 2),
  rss: round(load.rssMiB / base.rssMiB, 2),
  bytesPerRun: round(load.bytesPerRun / Math.max(1, base.bytesPerRun), 2),
});
const flat = (r: ReturnType<typeof ratios>) => {
  const most = 1 + W1.flatWithin;
  return r.stepsPerSecond >= 1 / most && r.p99 <= most && r.rss <= most && r.bytesPerRun <= most;
};

type Scenario = "alone" | "beside" | "big";

/** One scenario in this process (a fresh one per scenario: resident memory is per process). */
async function scenario(name: Scenario, dir: string): Promise<W1Result> {
  const database = join(dir, `scale-${name}.db`);
  if (name === "big") buildBigDatabase(database);
  await using rt = await createRuntime({ database, definitions: [steps, waiter], logLevel: "silent" });
  if (name === "beside") {
    const began = performance.now();
    for (let i = 0; i < BACKLOG.waiting; i++) await rt.start(waiter, { i }, { id: `waiting-${i}` }).then(() => undefined);
    for (;;) {
      const live = rt.liveExecutions();
      if (live.parked >= BACKLOG.waiting) break;
      await Bun.sleep(20);
    }
    Bun.gc(true);
    log(`${BACKLOG.waiting.toLocaleString()} workflows waiting (${Math.round(performance.now() - began)} ms to start them); live executions ${JSON.stringify(rt.liveExecutions())}`);
  }
  const tag = name === "alone" ? "alone" : name === "beside" ? `beside ${BACKLOG.waiting.toLocaleString()} waiting` : `on ${BIG.runs.toLocaleString()} runs`;
  return await w1(rt, database, tag);
}

async function inChild(name: Scenario, dir: string): Promise<W1Result> {
  const child = Bun.spawn([process.execPath, import.meta.path, name, dir], { stdout: "pipe", stderr: "inherit" });
  const [out, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  check(code === 0, `w1_at_scale: the ${name} scenario exited with code ${code}`);
  return JSON.parse(out.trim().split("\n").at(-1)!) as W1Result;
}

export async function benchScale(dir: string): Promise<BenchResult> {
  const base = await inChild("alone", dir);
  const withBacklog = await inChild("beside", dir);
  const onBig = await inChild("big", dir);
  const backlog = ratios(withBacklog, base);
  const big = ratios(onBig, base);
  return {
    bench: "w1_at_scale",
    value: Math.min(withBacklog.stepsPerSecond, onBig.stepsPerSecond),
    unit: `steps/s (W1 in-process beside ${BACKLOG.waiting.toLocaleString()} waiting workflows, and on ${BIG.runs.toLocaleString()} runs: the lower)`,
    target: `steps/s, p99, rss and bytes per run within ${W1.flatWithin * 100}% of W1 alone`,
    pass: flat(backlog) && flat(big),
    alone: base,
    beside: { ...withBacklog, ratios: backlog },
    onBig: { ...onBig, ratios: big },
  };
}

if (import.meta.main) {
  const [name, dir] = process.argv.slice(2) as [Scenario, string];
  process.stdout.write(`${JSON.stringify(await scenario(name, dir))}\n`);
}

/** A file of `BIG.runs` finished runs (one in a hundred failed; ten workflow names), written in one statement. */
function buildBigDatabase(path: string): void {
  openSyncStore(path).close(); // schema and indexes
  const db = new Database(path);
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = OFF"); // only while building the fixture
  db.run(`INSERT INTO runs (id, kind, name, status, input, output, created_at, updated_at, finished_at)
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BIG.runs})
    SELECT printf('run-%07d', i), 'workflow', 'flow' || (i % 10), CASE WHEN i % 100 = 0 THEN 'failed' ELSE 'completed' END,
           '{"i":' || i || '}', '{"ok":true}', 1700000000000 + i * 7, 1700000000000 + i * 7, 1700000000000 + i * 7 + 5
    FROM n`);
  db.run(`INSERT INTO ops (run_id, op_key, seq, kind, name, status, attempt, result, updated_at)
    SELECT 'run-0500000', 'step:s' || i || ':0', i, 'step', 's' || i, 'completed', 1, '{"v":1}', 0
    FROM (WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 9) SELECT i FROM n)`);
  db.run("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

export async function benchBigDatabase(dir: string): Promise<BenchResult> {
  const database = join(dir, "big.db");
  const built = performance.now();
  buildBigDatabase(database);
  log(`built ${BIG.runs.toLocaleString()} runs in ${Math.round(performance.now() - built)} ms (${round(statSync(database).size / 2 ** 20, 0)} MiB)`);
  await using rt = await createRuntime({ database, definitions: [steps], logLevel: "silent" });
  const timed = async (what: string, read: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < BIG.samples; i++) {
      const started = performance.now();
      await read();
      samples.push(performance.now() - started);
    }
    samples.sort((a, b) => a - b);
    return { what, p50Ms: round(percentile(samples, 0.5)), p99Ms: round(percentile(samples, 0.99)) };
  };
  const newest = await rt.list({ limit: 100 });
  const failed = await rt.list({ status: "failed", limit: 100 });
  const deep = newest.at(-1)!;
  const { nextCursor } = await rt.listPage({ limit: 100 });
  check(nextCursor === encodeRunCursor(deep), "big_database_reads: the first page's cursor is wrong");
  const next = await rt.list({ limit: 100, cursor: nextCursor });
  check(newest.length === 100 && newest[0]!.id === `run-${String(BIG.runs).padStart(7, "0")}`, "big_database_reads: the newest page is wrong");
  check(failed.length === 100 && failed.every((r) => r.status === "failed"), "big_database_reads: the failed page is wrong");
  check(next.length === 100 && next[0]!.createdAt < deep.createdAt, "big_database_reads: the page after the cursor is wrong");
  check((await rt.inspect("run-0500000")).ops.length === 10, "big_database_reads: the inspected run is wrong");
  const reads = [
    await timed("list, newest 100", () => rt.list({ limit: 100 })),
    await timed("list, failed, newest 100", () => rt.list({ status: "failed", limit: 100 })),
    await timed("list, one workflow, newest 100", () => rt.list({ workflow: "flow3", limit: 100 })),
    await timed("list, the page after a cursor", () => rt.list({ limit: 100, cursor: encodeRunCursor(deep) })),
    await timed("inspect one run (10 ops)", () => rt.inspect("run-0500000")),
  ];
  for (const r of reads) log(`${r.what}: p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`);
  const worst = Math.max(...reads.map((r) => r.p99Ms));
  return {
    bench: "big_database_reads",
    value: worst,
    unit: `ms (worst p99 of list pages and inspect, ${BIG.runs.toLocaleString()} runs)`,
    target: `< ${BIG.targetMs} ms`,
    pass: worst < BIG.targetMs,
    reads,
  };
}
