/**
 * How long a worker process takes to start: spawned as the pool spawns it (IPC channel, its own
 * process group) until its `ready` message arrives — the wait of a run whose code has no warm
 * worker yet. Timed for the built executable (`dist/vilano __worker`, what the daemon runs) and,
 * for comparison, from source (`bun src/worker/entry.ts`, what tests and the embedded runtime run).
 *   worker_cold_start — median of the executable's starts (target < 100 ms)
 */
import { join } from "node:path";
import { unbatch } from "../../src/worker/batching.ts";
import { signalChild } from "../../src/shared/index.ts";
import { BINARY, requireBinary } from "./cli.ts";
import { check, log, summarize, type BenchResult } from "./common.ts";

const SAMPLES = 20;
const WARMUP = 3;
/** A worker that never says it is ready is a bug: the bench fails instead of hanging. */
const READY_TIMEOUT_MS = 30_000;
const ENTRY = join(import.meta.dir, "..", "..", "src", "worker", "entry.ts");

/** Milliseconds from spawning `command` in worker mode to its `ready` message. */
async function timeWorkerStart(command: string[]): Promise<number> {
  const { promise: ready, resolve } = Promise.withResolvers<void>();
  let readyAt: number | null = null;
  const spawnedAt = performance.now();
  const proc = Bun.spawn([...command, "--generation", "bench", "--parent", String(process.pid)], {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
    detached: true,
    serialization: "json",
    ipc(payload) {
      for (const message of unbatch(payload)) if ((message as { t?: unknown }).t === "ready") {
        readyAt ??= performance.now();
        resolve();
      }
    },
  });
  const timeout = setTimeout(() => resolve(), READY_TIMEOUT_MS);
  try {
    await Promise.race([ready, proc.exited]);
    signalChild(proc, "SIGKILL");
    await proc.exited;
    // Read only now: the pipe ends when the process does.
    if (readyAt === null) check(false, `worker ${command.join(" ")} did not start: ${await new Response(proc.stderr).text()}`);
    return readyAt - spawnedAt;
  } finally {
    clearTimeout(timeout);
    signalChild(proc, "SIGKILL");
  }
}

async function samplesOf(command: string[]): Promise<number[]> {
  for (let i = 0; i < WARMUP; i++) await timeWorkerStart(command);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) samples.push(await timeWorkerStart(command));
  return samples;
}

export async function benchWorkerColdStart(): Promise<BenchResult> {
  requireBinary();
  const binary = summarize(await samplesOf([BINARY, "__worker"]));
  const source = summarize(await samplesOf([process.execPath, ENTRY]));
  log(`worker start: executable p50 ${binary.p50Ms} ms, from source p50 ${source.p50Ms} ms`);
  return {
    bench: "worker_cold_start",
    value: binary.p50Ms,
    unit: "ms (median, spawn → ready, dist/vilano __worker)",
    target: "< 100",
    pass: binary.p50Ms < 100,
    ...binary,
    fromSourceP50Ms: source.p50Ms,
    fromSourceP99Ms: source.p99Ms,
  };
}
