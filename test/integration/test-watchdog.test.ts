/**
 * scripts/run-tests.ts, what scripts/test.sh runs: each test file under a watchdog, so a file that
 * hangs or is stopped fails fast with its name, and what a file leaves running is named and ended.
 * Real `bun test` processes on small test files written for the purpose.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArguments } from "../../scripts/run-tests.ts";
import { isProcessAlive } from "../../src/shared/index.ts";
import { filePids } from "../helpers/lines.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const ROOT = join(import.meta.dir, "..", "..");
const RUNNER = join(ROOT, "scripts", "run-tests.ts");

describe("the test runner's arguments", () => {
  const every = () => ["test/e2e/exec.test.ts", "test/integration/exec.test.ts", "test/unit/ids.test.ts"];

  test("flags go to every file, with their values; a file, a folder and a filter name test files", () => {
    expect(parseArguments(["--timeout", "20000", "-t", "some name", "test/unit/ids.test.ts"], every)).toEqual({
      bunArgs: ["--timeout", "20000", "-t", "some name"],
      files: ["test/unit/ids.test.ts"],
    });
    expect(parseArguments(["--timeout=5", "exec"], every)).toEqual({ bunArgs: ["--timeout=5"], files: ["test/e2e/exec.test.ts", "test/integration/exec.test.ts"] });
    // A folder names every test file in it (as it is now: files come and go).
    const types = readdirSync(join(ROOT, "test", "types")).filter((name) => name.endsWith(".test.ts"));
    expect(types.length).toBeGreaterThan(1);
    expect([...parseArguments(["test/types"], every).files].sort()).toEqual(types.map((name) => `test/types/${name}`).sort());
    expect(parseArguments([], every).files).toEqual(every());
  });

  test("arguments that name no test file are an error saying so", () => {
    expect(() => parseArguments(["no-such-thing"], every)).toThrow("no test file matches no-such-thing");
  });
});

describe("a test file under the watchdog", () => {
  test("a stopped file and a hung one fail fast with their names; what they left running is named and killed; the other files' counts stay", async () => {
    const dir = tempDir("vilano-watchdog-");
    mkdirSync(join(dir, "files"));
    const write = (name: string, body: string) => {
      writeFileSync(join(dir, "files", name), `import { expect, test } from "bun:test";\n${body}\n`);
      return relative(ROOT, join(dir, "files", name));
    };
    const fine = write("fine.test.ts", 'test("passes", () => expect(1).toBe(1));');
    // As the worker-pool test once did with a pid read from an empty file: a SIGSTOP that stops its own bun test.
    const stopped = write("stopped.test.ts", 'test("stops itself", () => { process.kill(process.pid, "SIGSTOP"); });');
    // Blocked in synchronous code, where bun's per-test timeout cannot reach; it leaves a process
    // in a session of its own behind (one the file's bun, killed, cannot end on its way out).
    const hung = write(
      "hung.test.ts",
      `test("hangs", () => {
  Bun.spawnSync(["sh", "-c", "setsid sh -c 'echo \\$\\$ > ${join(dir, "left.pid")}; exec sleep 300' > /dev/null 2>&1 &"]);
  while (!require("node:fs").existsSync(${JSON.stringify(join(dir, "left.pid"))})) Bun.sleepSync(10);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
});`,
    );
    const runner = Bun.spawn([process.execPath, RUNNER, fine, stopped, hung], {
      cwd: ROOT,
      env: { ...process.env, VILANO_TEST_FILE_TIMEOUT: "8", VILANO_TEST_STOPPED_SECONDS: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, exitCode] = await Promise.all([new Response(runner.stdout).text(), new Response(runner.stderr).text(), runner.exited]);
    const output = stdout + stderr;
    expect(exitCode).toBe(1);
    expect(output).toContain(`TIMED OUT: ${stopped} — its process was stopped (state T) for 1 s`);
    expect(output).toContain(`TIMED OUT: ${hung} — no result within 8 s`);
    // The counts .ci/run adds up: the good file's, and nothing from the two that were ended.
    expect(output.match(/^ *\d+ pass$/gm)).toEqual([" 1 pass"]);
    expect(output.match(/^ *\d+ fail$/gm)).toEqual([" 0 fail"]);
    const [left] = filePids(join(dir, "left.pid"));
    expect(output).toMatch(new RegExp(`LEFTOVER after ${hung.replaceAll(".", "\\.")}: pid ${left} \\(state [A-Z]\\) sleep 300 — killed`));
    expect(isProcessAlive(left!)).toBe(false);
  }, 60_000);
});
