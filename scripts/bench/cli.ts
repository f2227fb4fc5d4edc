/**
 * Benchmarks of the executable users run (needs `bun run build` first):
 *   cli_cold_start       — `dist/vilano version`, whole process (target < 50 ms median)
 *   cli_run_start_wait   — `vilano run start <starter> --wait` with a warm daemon (target < 150 ms)
 *   client_run_starts    — run starts per second through createClient(), concurrency 32 (target ≥ 2,000/s)
 *   daemon_cold_start    — as the harness's cold start: `vilano daemon run` spawned in a fresh home →
 *                          answering (target < 40 ms) → project registered → first result (target < 60 ms)
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../src/client/index.ts";
import { signalChild } from "../../src/shared/index.ts";
import { check, freePort, log, round, summarize, type BenchResult } from "./common.ts";

const ROOT = join(import.meta.dir, "..", "..");
export const BINARY = join(ROOT, "dist", "vilano");

/** The built executable, and built from the sources as they are now (a stale one would be timed otherwise). */
export function requireBinary(): void {
  check(existsSync(BINARY), `${BINARY} is missing: run \`bun run build\` first`);
  const built = statSync(BINARY).mtimeMs;
  const sources = join(ROOT, "src");
  const newer = readdirSync(sources, { recursive: true, encoding: "utf8" }).find((path) => statSync(join(sources, path)).mtimeMs > built);
  check(newer === undefined, `${BINARY} is older than src/${newer}: run \`bun run build\` first`);
}

function timeProcess(args: string[], env: Record<string, string>): number {
  const started = performance.now();
  const proc = Bun.spawnSync([BINARY, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - started;
  check(proc.exitCode === 0, `vilano ${args.join(" ")} failed: ${proc.stderr}`);
  return ms;
}

export async function benchCliColdStart(): Promise<BenchResult> {
  requireBinary();
  for (let i = 0; i < 3; i++) timeProcess(["version"], {});
  const samples = Array.from({ length: 30 }, () => timeProcess(["version"], {}));
  const s = summarize(samples);
  return { bench: "cli_cold_start", value: s.p50Ms, unit: "ms (median, whole process)", target: "< 50", pass: s.p50Ms < 50, ...s };
}

/**
 * A home with the starter registered (plus `quick`, a workflow that returns at once, so run starts
 * are measured without the starter's work competing for the CPU) and its daemon running.
 */
function starterHome(dir: string): { env: Record<string, string>; stop: () => void } {
  const home = join(dir, "cli-home");
  const port = String(freePort());
  const env = { VILANO_HOME: home, VILANO_PORT: port, NO_COLOR: "1" };
  const project = join(dir, "cli-agent");
  timeProcess(["init", project, "--starter"], env);
  writeFileSync(join(project, "src", "quick.ts"), `import { workflow } from "@vilano/runtime";\nexport const quick = workflow({ name: "quick", run: async (input: unknown) => input });\n`);
  timeProcess(["init", project, "--force"], env);
  timeProcess(["project", "add", project, "--name", "agent"], env);
  return { env, stop: () => void timeProcess(["daemon", "stop"], env) };
}

export async function benchCliRunStartWait(dir: string): Promise<BenchResult> {
  requireBinary();
  const { env, stop } = starterHome(dir);
  try {
    const args = (i: number) => ["run", "start", "agent/reviewCoordinator", "--input", JSON.stringify({ repoId: `r${i % 10}`, note: "n" }), "--wait", "--json"];
    for (let i = 0; i < 3; i++) timeProcess(args(i), env);
    const samples = Array.from({ length: 20 }, (_, i) => timeProcess(args(i), env));
    const s = summarize(samples);
    return { bench: "cli_run_start_wait", value: s.p50Ms, unit: "ms (median, whole CLI process, warm daemon)", target: "< 150", pass: s.p50Ms < 150, ...s };
  } finally {
    stop();
  }
}

export async function benchClientRunStarts(dir: string): Promise<BenchResult> {
  requireBinary();
  const { env, stop } = starterHome(join(dir, "client"));
  try {
    const client = createClient({ home: env.VILANO_HOME! });
    const TOTAL = 3_000;
    const CONCURRENCY = 32;
    let next = 0;
    const ids: string[] = [];
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        ids.push((await client.runs.start("agent/quick", { i })).id);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;
    check(new Set(ids).size === TOTAL, `expected ${TOTAL} distinct runs, got ${new Set(ids).size}`);
    log(`client_run_starts: ${TOTAL} starts in ${seconds.toFixed(2)}s`);
    const perSecond = round(TOTAL / seconds, 0);
    return { bench: "client_run_starts", value: perSecond, unit: "starts/s (client → API, concurrency 32)", target: ">= 2000", pass: perSecond >= 2000, starts: TOTAL, seconds: round(seconds) };
  } finally {
    stop();
  }
}

const COLD = { samples: 5, readyTargetMs: 40, firstResultTargetMs: 60 };

/** A client of the daemon starting in `home`, once it answers (polled every `everyMs`); `what` names the bench in the error. */
export async function answeringDaemon(home: string, what: string, deadlineMs: number, everyMs: number): Promise<ReturnType<typeof createClient>> {
  const began = performance.now();
  for (;;) {
    check(performance.now() - began < deadlineMs, `${what}: the daemon did not answer within ${deadlineMs / 1000} s`);
    try {
      const client = createClient({ home, timeout: "1s" });
      await client.status();
      return client;
    } catch {
      await Bun.sleep(everyMs);
    }
  }
}

/** One cold start: the daemon spawned in a fresh home, polled every 2 ms until it answers, then a project and a first run. */
async function coldStart(dir: string, i: number): Promise<{ readyMs: number; registeredMs: number; firstResultMs: number }> {
  const home = join(dir, `cold-${i}`);
  const project = join(dir, `cold-project-${i}`);
  mkdirSync(join(project, "src"), { recursive: true });
  writeFileSync(join(project, "src", "hello.ts"), `import { workflow } from "@vilano/runtime";\nexport const hello = workflow({ name: "hello", run: async (_: unknown, ctx) => ctx.step("one", () => ({ ok: true })) });\n`);
  timeProcess(["init", project], {});
  const port = String(freePort());
  const t0 = performance.now();
  const daemon = Bun.spawn([BINARY, "daemon", "run", "--port", port], { env: { ...process.env, VILANO_HOME: home }, stdout: "ignore", stderr: "ignore" });
  try {
    const client = await answeringDaemon(home, "daemon_cold_start", 10_000, 2);
    const readyMs = performance.now() - t0;
    await client.projects.add(project, "cold");
    const registeredMs = performance.now() - t0;
    const run = await client.runs.start("cold/hello", {}, { wait: "10s" });
    check(run.status === "completed", `daemon_cold_start: the first run is ${run.status}`);
    return { readyMs, registeredMs, firstResultMs: performance.now() - t0 };
  } finally {
    signalChild(daemon);
    await daemon.exited;
  }
}

export async function benchDaemonColdStart(dir: string): Promise<BenchResult> {
  requireBinary();
  await coldStart(dir, 0); // the binary's pages in the OS cache, as for any start after the first
  const samples: Awaited<ReturnType<typeof coldStart>>[] = [];
  for (let i = 1; i <= COLD.samples; i++) samples.push(await coldStart(dir, i));
  const median = (pick: (s: (typeof samples)[number]) => number) => round(samples.map(pick).sort((a, b) => a - b)[Math.floor(samples.length / 2)]!, 1);
  const result = { readyMs: median((s) => s.readyMs), registeredMs: median((s) => s.registeredMs), firstResultMs: median((s) => s.firstResultMs) };
  log(`cold start: answering ${result.readyMs} ms, project registered ${result.registeredMs} ms, first result ${result.firstResultMs} ms`);
  return {
    bench: "daemon_cold_start",
    value: result.firstResultMs,
    unit: "ms (median: spawn → first workflow result, project registration included)",
    target: `answering < ${COLD.readyTargetMs} ms, first result < ${COLD.firstResultTargetMs} ms`,
    pass: result.readyMs < COLD.readyTargetMs && result.firstResultMs < COLD.firstResultTargetMs,
    ...result,
  };
}

