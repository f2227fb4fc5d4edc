/**
 * One test file in a `bun test` of its own, under a watchdog: a file that hangs — or whose process
 * is stopped, as when a test sends SIGSTOP to pid 0, its own process group — fails fast with its
 * name instead of holding the suite until CI's limit.
 *
 * The file's `bun test` leads a process group of its own (so a stray group signal stops only it,
 * and the watchdog can end all of it at once) and runs with `--no-orphans` (on its way out it ends
 * whatever it started, daemons in their own sessions included). Its output is passed through as it
 * comes; its " N pass" / " N fail" lines are counted on the way.
 */
import { linesOf, processStateLetter, signalProcessGroup } from "../../src/shared/index.ts";
import { endLeftovers, type Leftover } from "./leftovers.ts";

export interface FileOutcome {
  file: string;
  ms: number;
  exitCode: number | null;
  /** Why the watchdog ended the file, when it did. */
  timedOut?: string;
  pass: number;
  fail: number;
  /** Processes the file left running after it ended; they were killed. */
  leftovers: Leftover[];
}

export interface WatchdogOptions {
  bunArgs: string[];
  /** The most a file may take. */
  limitMs: number;
  /** How long the file's own process may stay stopped (state T) before it counts as hung. */
  stoppedMs: number;
  /** The file's own temporary folder: its TMPDIR, and how what it started is recognised. */
  folder: string;
  env: Record<string, string | undefined>;
  /** How long what the file started may take to end by itself once it is done. */
  leftoverGraceMs: number;
}

/** Passes a stream through line by line, counting the summary lines of `bun test`. */
async function passThrough(stream: ReadableStream<Uint8Array>, out: NodeJS.WriteStream, counts: { pass: number; fail: number }): Promise<void> {
  const count = (line: string) => {
    const summary = /^\s*(\d+) (pass|fail)$/.exec(line);
    if (summary) counts[summary[2] as "pass" | "fail"] += Number(summary[1]);
  };
  const lines = linesOf(stream);
  for (;;) {
    const next = await lines.next();
    if (next.done) {
      if (next.value) (count(next.value), out.write(`${next.value}\n`));
      return;
    }
    count(next.value);
    out.write(`${next.value}\n`);
  }
}

export async function runFileUnderWatchdog(file: string, options: WatchdogOptions): Promise<FileOutcome> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, "test", "--no-orphans", ...options.bunArgs, file.startsWith("/") ? file : `./${file}`], {
    env: { ...options.env, TMPDIR: options.folder },
    detached: true,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const counts = { pass: 0, fail: 0 };
  const output = Promise.all([passThrough(proc.stdout, process.stdout, counts), passThrough(proc.stderr, process.stderr, counts)]).catch(() => undefined);

  let timedOut: string | undefined;
  let stoppedSince: number | null = null;
  const watch = setInterval(() => {
    if (proc.exitCode !== null || proc.signalCode !== null || timedOut) return;
    const now = performance.now();
    const stopped = processStateLetter(proc.pid) === "T";
    stoppedSince = stopped ? (stoppedSince ?? now) : null;
    if (now - started > options.limitMs) timedOut = `no result within ${Math.round(options.limitMs / 1000)} s`;
    else if (stoppedSince !== null && now - stoppedSince > options.stoppedMs) timedOut = `its process was stopped (state T) for ${Math.round(options.stoppedMs / 1000)} s: something sent it SIGSTOP`;
    if (timedOut) {
      try {
        signalProcessGroup(proc.pid, "SIGKILL");
      } catch (error) {
        console.error(`could not end the process group of ${file}: ${String(error)}`);
      }
    }
  }, 250);
  try {
    await proc.exited;
  } finally {
    clearInterval(watch);
  }
  // Whatever still holds the file's output open is a leftover: end those before draining the rest.
  // A file that was killed told nothing to stop: what it left is not on its way out.
  const leftovers = await endLeftovers(options.folder, timedOut ? 0 : options.leftoverGraceMs);
  let drained: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([output, new Promise<void>((resolve) => (drained = setTimeout(resolve, 5_000)))]);
  clearTimeout(drained);
  return { file, ms: performance.now() - started, exitCode: proc.exitCode, ...(timedOut ? { timedOut } : {}), pass: counts.pass, fail: counts.fail, leftovers };
}
