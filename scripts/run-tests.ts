/**
 * `bun scripts/run-tests.ts [bun test flags] [file|folder|filter...]` (what scripts/test.sh runs):
 * every test file in a `bun test` of its own under a watchdog (scripts/test-runner/watchdog.ts),
 * one after another, so that a file that hangs fails fast with its name ("TIMED OUT: <file>"),
 * and whatever a file left running is named ("LEFTOVER after <file>: …") and ended, never
 * anyone else's process.
 *
 * Arguments as `bun test` takes them: flags (`--timeout 20000`, `-t name`) go to every file; a
 * file or a folder names those test files; any other word keeps the test files whose path holds it.
 * Without either, every test file of the repository.
 *
 * Settings: VILANO_TEST_FILE_TIMEOUT, the most one file may take, in seconds (default 300: the
 * longest file takes about 20 s on a shared machine); VILANO_TEST_STOPPED_SECONDS, how long a
 * file's process may stay stopped before it counts as hung (default 10).
 *
 * The output is each file's own, and the counts .ci/run adds up (" N pass", " N fail") are its
 * lines; a file the watchdog ended gets none, so its "TIMED OUT:" line is counted as a failure there.
 * The exit code is 1 when a file failed or timed out. A process a file left behind is named and
 * killed, and does not fail the run: the file's tests passed, and the file is to be fixed.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { endLeftovers } from "./test-runner/leftovers.ts";
import { runFileUnderWatchdog, type FileOutcome } from "./test-runner/watchdog.ts";

const ROOT = join(import.meta.dir, "..");
/** `bun test`'s own rule for what a test file is. */
const TEST_FILE = /(\.|_)(test|spec)\.(ts|tsx|js|jsx|mjs|cjs|mts|cts)$/;
/** Flags of `bun test` whose value is the next argument when not given with "=". */
const FLAGS_WITH_VALUE = new Set(["--timeout", "-t", "--test-name-pattern", "--preload", "--rerun-each", "--retry", "--seed", "--bail", "--reporter", "--reporter-outfile", "--max-concurrency", "--path-ignore-patterns", "--coverage-dir", "--coverage-reporter"]);

function seconds(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a number of seconds > 0, not ${JSON.stringify(text)}`);
  return value;
}

function allTestFiles(under = ROOT): string[] {
  const found: string[] = [];
  for (const path of new Bun.Glob("**/*").scanSync({ cwd: under, onlyFiles: true })) {
    if (TEST_FILE.test(path) && !path.split("/").includes("node_modules")) found.push(relative(ROOT, resolve(under, path)));
  }
  return found.sort();
}

/** The flags for every file, and the files the other arguments name. */
export function parseArguments(args: string[], everyFile: () => string[] = allTestFiles): { bunArgs: string[]; files: string[] } {
  const bunArgs: string[] = [];
  const named: string[] = [];
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("-")) {
      bunArgs.push(arg);
      if (FLAGS_WITH_VALUE.has(arg) && i + 1 < args.length) bunArgs.push(args[++i]!);
      continue;
    }
    let isFolder: boolean | undefined;
    try {
      isFolder = statSync(resolve(ROOT, arg)).isDirectory();
    } catch {
      isFolder = undefined;
    }
    if (isFolder === true) named.push(...allTestFiles(resolve(ROOT, arg)));
    else if (isFolder === false) named.push(relative(ROOT, resolve(ROOT, arg)));
    else filters.push(arg);
  }
  const everything = named.length === 0 && filters.length === 0 ? everyFile() : [];
  const filtered = filters.length > 0 ? everyFile().filter((file) => filters.some((filter) => file.includes(filter))) : [];
  const files = [...new Set([...named, ...filtered, ...everything])];
  if (files.length === 0) throw new Error(`no test file matches ${args.join(" ")}`);
  return { bunArgs, files };
}

function describeOutcome(outcome: FileOutcome): string {
  return `${outcome.file} (${(outcome.ms / 1000).toFixed(1)} s)`;
}

async function main(): Promise<number> {
  const { bunArgs, files } = parseArguments(process.argv.slice(2));
  const limitMs = seconds("VILANO_TEST_FILE_TIMEOUT", 300) * 1000;
  const stoppedMs = seconds("VILANO_TEST_STOPPED_SECONDS", 10) * 1000;
  const run = mkdtempSync(join(tmpdir(), "vilano-tests-"));
  const began = performance.now();
  const outcomes: FileOutcome[] = [];
  try {
    for (const [index, file] of files.entries()) {
      const folder = join(run, String(index));
      mkdirSync(folder);
      const outcome = await runFileUnderWatchdog(file, { bunArgs, limitMs, stoppedMs, folder, env: process.env, leftoverGraceMs: 5_000 });
      if (outcome.timedOut) console.error(`TIMED OUT: ${outcome.file} — ${outcome.timedOut}; its process group was killed`);
      for (const left of outcome.leftovers) console.error(`LEFTOVER after ${file}: pid ${left.pid} (state ${left.state}) ${left.command} — killed`);
      outcomes.push(outcome);
      // Sealed snapshots are read-only folders; make them writable again so they can be removed.
      Bun.spawnSync(["chmod", "-R", "u+w", folder]);
      rmSync(folder, { recursive: true, force: true });
    }
  } finally {
    const stragglers = await endLeftovers(run, 0);
    for (const left of stragglers) console.error(`LEFTOVER after the run: pid ${left.pid} (state ${left.state}) ${left.command} — killed`);
    Bun.spawnSync(["chmod", "-R", "u+w", run]);
    rmSync(run, { recursive: true, force: true });
  }

  const failed = outcomes.filter((o) => !o.timedOut && (o.exitCode !== 0 || o.fail > 0));
  const timedOut = outcomes.filter((o) => o.timedOut);
  const leaving = outcomes.filter((o) => o.leftovers.length > 0);
  const slowest = [...outcomes].sort((a, b) => b.ms - a.ms).slice(0, 5);
  const pass = outcomes.reduce((n, o) => n + o.pass, 0);
  const fail = outcomes.reduce((n, o) => n + o.fail, 0);
  console.error(`\n=== ${files.length} test file(s) in ${((performance.now() - began) / 1000).toFixed(1)} s: tests ${pass} passed, ${fail} failed`);
  console.error(`slowest: ${slowest.map(describeOutcome).join(", ")}`);
  if (failed.length > 0) console.error(`FAILED files: ${failed.map((o) => o.file).join(", ")}`);
  if (timedOut.length > 0) console.error(`TIMED OUT files: ${timedOut.map((o) => o.file).join(", ")}`);
  if (leaving.length > 0) console.error(`files that left processes running: ${leaving.map((o) => o.file).join(", ")}`);
  return failed.length + timedOut.length > 0 ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main();
