/**
 * Service benchmarks for `bun run bench`: the latency of one ask round trip (asker → service turn
 * → reply) and ask throughput over many keys. Each bench opens its own database file (synchronous
 * FULL) in the bench's temp dir; the caller removes the dir.
 *
 * Latency inside a workflow is measured with wall-clock marks that survive replay: the first time
 * the code reaches an ask marks when it was sent (the activation that sends it is the first to get
 * there), the first time the ask returns marks when its reply arrived (in the next activation,
 * after replaying the history before it). Replays of those lines later do not overwrite the marks.
 */
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { service, workflow, type ServiceRef } from "../../src/sdk/index.ts";
import { check, log, RESULT_TIMEOUT, round, summarize, timeMs, type BenchResult, type LatencySummary } from "./common.ts";

const ROUND_TRIP = { sequenceAsks: 500, warmupAsks: 50, oneAskRuns: 300, scriptAsks: 1_000, targetMs: 2 };
const THROUGHPUT = { keys: 100, concurrency: 32, asks: 6_000, warmupAsks: 640, target: 3_000 };

// ---------------------------------------------------------------------------------------------
// Definitions

const counter = service({
  name: "bench_counter",
  key: (input: { id: string }) => input.id,
  init: async () => ({ count: 0 }),
  onAsk: {
    inc: async (_p: void, state) => ({ state: { count: state.count + 1 }, reply: state.count + 1 }),
    get: async (_p: void, state) => ({ reply: state.count }),
  },
});

type CounterRef = ServiceRef<typeof counter>;

/** Send and reply marks (performance.now()) by probe label; the first mark of a label wins. */
class Probe {
  private readonly sent = new Map<string, number>();
  private readonly replied = new Map<string, number>();
  markSent(label: string): void {
    if (!this.sent.has(label)) this.sent.set(label, performance.now());
  }
  markReplied(label: string): void {
    if (!this.replied.has(label)) this.replied.set(label, performance.now());
  }
  /** Round-trip times of the given labels; every one must have both marks. */
  samples(labels: Iterable<string>): number[] {
    const out: number[] = [];
    for (const label of labels) {
      const sent = this.sent.get(label);
      const replied = this.replied.get(label);
      check(sent !== undefined && replied !== undefined, `probe ${label}: missing marks (sent ${sent}, replied ${replied})`);
      out.push(replied - sent);
    }
    return out;
  }
}

interface AskSequenceInput {
  id: string;
  tag: string;
  asks: number;
}

interface AskOnceInput {
  id: string;
  tag: string;
}

/** One workflow doing `asks` sequential asks to one instance; returns every reply. */
function askSequenceWorkflow(probe: Probe) {
  return workflow({
    name: "bench_ask_sequence",
    run: async (input: AskSequenceInput, ctx) => {
      const ref = await ctx.connect(counter, { id: input.id });
      const replies: number[] = [];
      for (let i = 0; i < input.asks; i++) {
        probe.markSent(`${input.tag}:${i}`);
        replies.push(await ref.ask.inc());
        probe.markReplied(`${input.tag}:${i}`);
      }
      return replies;
    },
  });
}

/** One workflow, one ask; returns the reply. */
function askOnceWorkflow(probe: Probe) {
  return workflow({
    name: "bench_ask_once",
    run: async (input: AskOnceInput, ctx) => {
      const ref = await ctx.connect(counter, { id: input.id });
      probe.markSent(input.tag);
      const reply = await ref.ask.inc();
      probe.markReplied(input.tag);
      return reply;
    },
  });
}

async function openRuntime(database: string, probe: Probe): Promise<Runtime> {
  return createRuntime({
    database,
    definitions: [counter, askSequenceWorkflow(probe), askOnceWorkflow(probe)],
    synchronous: "FULL",
    logLevel: "silent",
  });
}

/** The counter of `id` must stand at `expected` (read with a `get` ask, which changes nothing). */
async function expectCount(rt: Runtime, id: string, expected: number): Promise<void> {
  const count = await (await rt.connect(counter, { id })).ask.get(undefined, { timeout: RESULT_TIMEOUT });
  check(count === expected, `counter ${id}: expected ${expected} after ${expected} incs, found ${count}`);
}

const range = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);
const sameNumbers = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

// ---------------------------------------------------------------------------------------------
// ask_round_trip

/** A variant's latencies, with a sentence saying what exactly was timed. */
type Variant = LatencySummary & { measures: string };

export interface AskRoundTripResult extends BenchResult {
  workflowAskSequential: Variant & { firstTenthP50Ms: number; lastTenthP50Ms: number; runTotalMs: number };
  workflowAskOnePerRun: Variant;
  oneAskRunStartToResult: Variant;
  scriptRefAsk: Variant;
}

async function runSequence(rt: Runtime, id: string, tag: string, asks: number): Promise<number> {
  const handle = await rt.start<AskSequenceInput, number[]>("bench_ask_sequence", { id, tag, asks });
  const { ms, value } = await timeMs(() => handle.result({ timeout: RESULT_TIMEOUT }));
  check(Array.isArray(value) && sameNumbers(value, range(asks)), `ask sequence ${tag}: replies are not 1..${asks}: ${JSON.stringify(value).slice(0, 200)}`);
  await expectCount(rt, id, asks);
  return ms;
}

async function runAskOnce(rt: Runtime, id: string, tag: string): Promise<{ ms: number; reply: number }> {
  const { ms, value } = await timeMs(async () => {
    const handle = await rt.start<AskOnceInput, number>("bench_ask_once", { id, tag });
    return handle.result({ timeout: RESULT_TIMEOUT });
  });
  check(typeof value === "number", `ask-once run ${tag}: expected a numeric reply, got ${JSON.stringify(value)}`);
  return { ms, reply: value };
}

export async function benchAskRoundTrip(dir: string): Promise<AskRoundTripResult> {
  const probe = new Probe();
  const rt = await openRuntime(join(dir, "ask-round-trip.db"), probe);
  try {
    log(`ask_round_trip: warm-up (${ROUND_TRIP.warmupAsks} asks in a workflow, ${ROUND_TRIP.warmupAsks} one-ask runs and script asks)`);
    await runSequence(rt, "warm-seq", "warm-seq", ROUND_TRIP.warmupAsks);
    for (let i = 0; i < ROUND_TRIP.warmupAsks; i++) await runAskOnce(rt, "warm-once", `warm-once:${i}`);
    const warmRef = await rt.connect(counter, { id: "warm-script" });
    for (let i = 0; i < ROUND_TRIP.warmupAsks; i++) await warmRef.ask.inc(undefined, { timeout: RESULT_TIMEOUT });

    // 1. Inside one workflow: N sequential asks to one instance (replays a growing history).
    log(`ask_round_trip: one workflow, ${ROUND_TRIP.sequenceAsks} sequential asks to one instance`);
    const sequenceMs = await runSequence(rt, "seq", "seq", ROUND_TRIP.sequenceAsks);
    const sequence = probe.samples(range(ROUND_TRIP.sequenceAsks, 0).map((i) => `seq:${i}`));
    const tenth = Math.floor(sequence.length / 10);

    // 2. One ask per workflow run, runs one after another: rt.start → result(), plus the ask itself.
    log(`ask_round_trip: ${ROUND_TRIP.oneAskRuns} sequential one-ask workflow runs`);
    const runTimes: number[] = [];
    const replies: number[] = [];
    for (let i = 0; i < ROUND_TRIP.oneAskRuns; i++) {
      const { ms, reply } = await runAskOnce(rt, "once", `once:${i}`);
      runTimes.push(ms);
      replies.push(reply);
    }
    check(sameNumbers(replies, range(ROUND_TRIP.oneAskRuns)), `one-ask runs: replies are not 1..${ROUND_TRIP.oneAskRuns}`);
    await expectCount(rt, "once", ROUND_TRIP.oneAskRuns);
    const onceInWorkflow = probe.samples(range(ROUND_TRIP.oneAskRuns, 0).map((i) => `once:${i}`));

    // 3. From this script through an rt.connect ref: no asking run, the reply wakes a waiter in memory.
    log(`ask_round_trip: ${ROUND_TRIP.scriptAsks} sequential asks through an rt.connect ref`);
    const ref = await rt.connect(counter, { id: "script" });
    const scriptTimes: number[] = [];
    for (let i = 1; i <= ROUND_TRIP.scriptAsks; i++) {
      const { ms, value } = await timeMs(() => ref.ask.inc(undefined, { timeout: RESULT_TIMEOUT }));
      check(value === i, `script ask ${i}: expected reply ${i}, got ${JSON.stringify(value)}`);
      scriptTimes.push(ms);
    }
    await expectCount(rt, "script", ROUND_TRIP.scriptAsks);

    const headline = summarize(sequence);
    return {
      bench: "ask_round_trip",
      value: headline.p50Ms,
      unit: "ms (p50, workflow → service → reply)",
      target: `< ${ROUND_TRIP.targetMs}`,
      pass: headline.p50Ms < ROUND_TRIP.targetMs,
      targetAppliesTo: "workflowAskSequential.p50Ms",
      synchronous: "FULL",
      workflowAskSequential: {
        measures: `inside one workflow: ref.ask.inc() call to its return, ${ROUND_TRIP.sequenceAsks} sequential asks to one instance; each reply resumes the workflow, which replays its history so far`,
        ...headline,
        firstTenthP50Ms: summarize(sequence.slice(0, tenth)).p50Ms,
        lastTenthP50Ms: summarize(sequence.slice(-tenth)).p50Ms,
        runTotalMs: round(sequenceMs, 1),
      },
      workflowAskOnePerRun: {
        measures: "inside a one-ask workflow: ref.ask.inc() call to its return (no history before it but the connect)",
        ...summarize(onceInWorkflow),
      },
      oneAskRunStartToResult: {
        measures: `rt.start() of a one-ask workflow to its result(), ${ROUND_TRIP.oneAskRuns} runs one after another`,
        ...summarize(runTimes),
      },
      scriptRefAsk: {
        measures: `rt.connect(...) ref .ask.inc() from the script to its reply, ${ROUND_TRIP.scriptAsks} sequential asks`,
        ...summarize(scriptTimes),
      },
    };
  } finally {
    await rt.close();
  }
}

// ---------------------------------------------------------------------------------------------
// asks_per_second

export interface AsksPerSecondResult extends BenchResult {
  workflows: SpreadResult & { measures: string; askLatencyInWorkflowUnderLoad: LatencySummary };
  scriptRefs: SpreadResult & { measures: string };
}

/**
 * `total` asks spread over the keys (ask n goes to key n % keys), made by `concurrency` callers
 * that each take the next n until none is left. Returns the replies by key, in no set order.
 */
async function spreadAsks(
  keys: readonly string[],
  total: number,
  concurrency: number,
  ask: (key: string, n: number) => Promise<number>,
): Promise<{ ms: number; replies: Map<string, number[]> }> {
  const replies = new Map(keys.map((key) => [key, [] as number[]]));
  let next = 0;
  const caller = async () => {
    while (next < total) {
      const n = next++;
      const key = keys[n % keys.length]!;
      replies.get(key)!.push(await ask(key, n));
    }
  };
  const { ms } = await timeMs(() => Promise.all(Array.from({ length: concurrency }, caller)));
  return { ms, replies };
}

/** Every key got its share of asks, each reply 1..share exactly once, and the counter agrees. */
async function verifySpread(rt: Runtime, label: string, replies: Map<string, number[]>, total: number): Promise<void> {
  let sum = 0;
  for (const [key, got] of replies) {
    const share = got.length;
    sum += share;
    const sorted = [...got].sort((a, b) => a - b);
    check(sameNumbers(sorted, range(share)), `${label}: key ${key} got replies ${JSON.stringify(sorted).slice(0, 200)}, expected 1..${share} once each`);
    await expectCount(rt, key, share);
  }
  check(sum === total, `${label}: ${sum} replies for ${total} asks`);
}

interface SpreadResult {
  asksPerSecond: number;
  seconds: number;
  asks: number;
  cpu: { userMs: number; systemMs: number; percentOfWall: number; usPerAsk: number };
  stats: { batches: number; commands: number; largestBatch: number; avgBatch: number; commandsPerAsk: number };
}

async function measureSpread(
  rt: Runtime,
  label: string,
  prefix: string,
  ask: (key: string, n: number) => Promise<number>,
): Promise<SpreadResult> {
  const keys = range(THROUGHPUT.keys, 0).map((i) => `${prefix}-${i}`);
  // Warm-up on keys of its own, so the measured keys start at zero.
  const warm = await spreadAsks(keys.map((k) => `warm-${k}`), THROUGHPUT.warmupAsks, THROUGHPUT.concurrency, ask);
  await verifySpread(rt, `${label} warm-up`, warm.replies, THROUGHPUT.warmupAsks);
  const before = { ...rt.stats };
  const cpuBefore = process.cpuUsage();
  const { ms, replies } = await spreadAsks(keys, THROUGHPUT.asks, THROUGHPUT.concurrency, ask);
  const cpu = process.cpuUsage(cpuBefore);
  const batches = rt.stats.batches - before.batches;
  const commands = rt.stats.commands - before.commands;
  await verifySpread(rt, label, replies, THROUGHPUT.asks);
  const asksPerSecond = Math.round(THROUGHPUT.asks / (ms / 1000));
  log(`asks_per_second: ${label}: ${asksPerSecond} asks/s (${THROUGHPUT.asks} asks in ${round(ms / 1000, 3)}s)`);
  return {
    asksPerSecond,
    seconds: round(ms / 1000, 4),
    asks: THROUGHPUT.asks,
    // Process CPU (all threads, user + system) over the timed part: near 100% per busy core means CPU-bound.
    cpu: {
      userMs: round(cpu.user / 1000, 1),
      systemMs: round(cpu.system / 1000, 1),
      percentOfWall: round((100 * (cpu.user + cpu.system)) / 1000 / ms, 1),
      usPerAsk: round((cpu.user + cpu.system) / THROUGHPUT.asks, 1),
    },
    stats: {
      batches,
      commands,
      largestBatch: rt.stats.largestBatch,
      avgBatch: round(commands / batches, 1),
      commandsPerAsk: round(commands / THROUGHPUT.asks, 2),
    },
  };
}

export async function benchAsksPerSecond(dir: string): Promise<AsksPerSecondResult> {
  const probe = new Probe();
  const { keys, concurrency, asks } = THROUGHPUT;

  // Workflow variant: every ask is its own workflow run (start, connect, ask, reply, complete).
  log(`asks_per_second: ${asks} one-ask workflow runs over ${keys} keys, ${concurrency} concurrent callers`);
  const tags: string[] = [];
  let workflows: SpreadResult;
  let rt = await openRuntime(join(dir, "asks-workflows.db"), probe);
  try {
    workflows = await measureSpread(rt, "workflows", "wf", async (key, n) => {
      const tag = `${key}:${n}`;
      if (!key.startsWith("warm-")) tags.push(tag);
      const { reply } = await runAskOnce(rt, key, tag);
      return reply;
    });
  } finally {
    await rt.close();
  }
  const underLoad = summarize(probe.samples(tags));

  // Script variant: refs from rt.connect, connected once per key before timing.
  log(`asks_per_second: ${asks} asks through rt.connect refs over ${keys} keys, ${concurrency} concurrent callers`);
  let script: SpreadResult;
  rt = await openRuntime(join(dir, "asks-script.db"), probe);
  try {
    const refs = new Map<string, CounterRef>();
    for (const prefix of ["warm-ref", "ref"]) {
      for (let i = 0; i < keys; i++) refs.set(`${prefix}-${i}`, await rt.connect(counter, { id: `${prefix}-${i}` }));
    }
    script = await measureSpread(rt, "script refs", "ref", (key) => refs.get(key)!.ask.inc(undefined, { timeout: RESULT_TIMEOUT }));
  } finally {
    await rt.close();
  }

  return {
    bench: "asks_per_second",
    value: workflows.asksPerSecond,
    unit: "asks/s (one-ask workflows)",
    target: `>= ${THROUGHPUT.target}`,
    pass: workflows.asksPerSecond >= THROUGHPUT.target,
    targetAppliesTo: "workflows.asksPerSecond",
    keys,
    concurrency,
    synchronous: "FULL",
    workflows: {
      measures: `${asks} workflow runs, each connect + one ask to key n % ${keys}, ${concurrency} callers each looping rt.start → result()`,
      ...workflows,
      askLatencyInWorkflowUnderLoad: underLoad,
    },
    scriptRefs: {
      measures: `${asks} ref.ask.inc() calls on rt.connect refs, key n % ${keys}, ${concurrency} callers each looping`,
      ...script,
    },
  };
}
