/**
 * The daemon of the built executable beside a worker that user code blocks for good (needs
 * `bun run build`): what test/e2e/worker-pool.test.ts checks happens, timed here, where a loaded
 * machine misses a target instead of failing a test.
 *   daemon_beside_blocked_worker — while one of two workers spins with no timeout:
 *     /health p50 < 200 ms, `vilano run list --json` (a whole CLI process) p50 < 200 ms, a 300 ms
 *     durable sleep on the other worker late by < 100 ms (median); then the spinning run cancelled →
 *     its worker killed (after the 1 s cancel grace) and a replacement up: < 2,000 ms.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, isSignallablePid, signalChild } from "../../src/shared/index.ts";
import { answeringDaemon, BINARY, requireBinary } from "./cli.ts";
import { check, freePort, log, median, RESULT_TIMEOUT, round, summarize, type BenchResult } from "./common.ts";

const BLOCKED = { healthSamples: 30, listSamples: 10, sleeps: 5, sleepMs: 300, healthTargetMs: 200, listTargetMs: 200, latenessTargetMs: 100, replacedTargetMs: 2_000 };

const SOURCE = `import { writeFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";

export const spinForever = workflow({
  name: "spinForever",
  run: async (input: { marker: string }, ctx) => ctx.step("spin", () => {
    writeFileSync(input.marker, process.pid + "\\n");
    for (;;);
  }),
});

export const lateness = workflow({
  name: "lateness",
  run: async (input: { ms: number }, ctx) => {
    const started = await ctx.step("start", () => Date.now());
    await ctx.sleep(input.ms);
    return ctx.step("late", () => Date.now() - started - input.ms);
  },
});
`;

function writeProject(dir: string): string {
  const project = join(dir, "blocked-project");
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "flows.ts"), SOURCE);
  const init = Bun.spawnSync([BINARY, "init", project], { stdout: "pipe", stderr: "pipe" });
  check(init.exitCode === 0, `daemon_beside_blocked_worker: vilano init failed: ${init.stderr}`);
  return project;
}

async function until(what: string, condition: () => Promise<boolean> | boolean, deadlineMs = 30_000): Promise<void> {
  const began = performance.now();
  while (!(await condition())) {
    check(performance.now() - began < deadlineMs, `daemon_beside_blocked_worker: ${what} did not happen within ${deadlineMs / 1000} s`);
    await Bun.sleep(5);
  }
}

export async function benchBlockedWorker(dir: string): Promise<BenchResult> {
  requireBinary();
  const home = join(dir, "blocked-home");
  const port = freePort();
  const env = { ...process.env, VILANO_HOME: home, VILANO_PORT: String(port), VILANO_WORKERS: "2", NO_COLOR: "1" };
  const daemon = Bun.spawn([BINARY, "daemon", "run", "--port", String(port)], { env, stdout: "ignore", stderr: "inherit" });
  try {
    const client = await answeringDaemon(home, "daemon_beside_blocked_worker", 15_000, 10);
    await client.projects.add(writeProject(dir), "blocked");
    const marker = join(dir, "blocked-spinning");
    const spinner = await client.runs.start("blocked/spinForever", { marker });
    // The step has started: its worker (the pid it noted, once the line is whole) is busy for good.
    const notedPid = () => (existsSync(marker) && readFileSync(marker, "utf8").endsWith("\n") ? Number(readFileSync(marker, "utf8")) : undefined);
    await until("the spin to start", () => notedPid() !== undefined);
    const spinning = notedPid()!;
    check(isSignallablePid(spinning), `daemon_beside_blocked_worker: the spinning worker noted ${spinning} as its pid`);

    const health: number[] = [];
    for (let i = 0; i < BLOCKED.healthSamples; i++) {
      const started = performance.now();
      check((await fetch(`http://127.0.0.1:${port}/health`)).ok, "daemon_beside_blocked_worker: /health failed");
      health.push(performance.now() - started);
    }
    const list: number[] = [];
    for (let i = 0; i < BLOCKED.listSamples; i++) {
      const started = performance.now();
      const listed = Bun.spawnSync([BINARY, "run", "list", "--json"], { env, stdout: "pipe", stderr: "pipe" });
      list.push(performance.now() - started);
      check(listed.exitCode === 0, `daemon_beside_blocked_worker: run list failed: ${listed.stderr}`);
    }
    const late: number[] = [];
    for (let i = 0; i < BLOCKED.sleeps; i++) {
      const run = await client.runs.start("blocked/lateness", { ms: BLOCKED.sleepMs });
      late.push((await client.runs.result(run.id, { timeout: RESULT_TIMEOUT })) as number);
    }

    const cancelled = performance.now();
    await client.runs.cancel(spinner.id);
    await until("the blocked worker to be replaced", async () => {
      const now = (await client.status()).workers.pids;
      return !isProcessAlive(spinning) && now.length > 0 && !now.includes(spinning);
    });
    const replacedMs = round(performance.now() - cancelled, 1);

    const healthSummary = summarize(health);
    const listSummary = summarize(list);
    const lateness = round(median(late), 1);
    log(`beside a blocked worker: /health p50 ${healthSummary.p50Ms} ms, run list p50 ${listSummary.p50Ms} ms, sleep lateness median ${lateness} ms; cancel → worker replaced ${replacedMs} ms`);
    return {
      bench: "daemon_beside_blocked_worker",
      value: healthSummary.p50Ms,
      unit: "ms (/health p50 while a worker spins for good)",
      target: `/health p50 < ${BLOCKED.healthTargetMs} ms, run list p50 < ${BLOCKED.listTargetMs} ms, sleep lateness < ${BLOCKED.latenessTargetMs} ms, cancel → replaced < ${BLOCKED.replacedTargetMs} ms`,
      pass:
        healthSummary.p50Ms < BLOCKED.healthTargetMs && listSummary.p50Ms < BLOCKED.listTargetMs && lateness < BLOCKED.latenessTargetMs && replacedMs < BLOCKED.replacedTargetMs,
      health: healthSummary,
      runList: listSummary,
      sleepLatenessMs: late,
      cancelToReplacedMs: replacedMs,
    };
  } finally {
    signalChild(daemon);
    await daemon.exited;
  }
}
