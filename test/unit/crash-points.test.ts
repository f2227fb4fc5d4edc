import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CRASH_POINTS, loadCrashPlan, parseCrashAt } from "../../src/shared/index.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe("parseCrashAt", () => {
  test("reads a declared point, on its first pass unless @n names another", () => {
    expect(parseCrashAt("after_commit")).toEqual({ point: "after_commit", pass: 1 });
    expect(parseCrashAt("before_commit@12")).toEqual({ point: "before_commit", pass: 12 });
  });

  test("refuses a name that is no declared point, naming the variable and the points", () => {
    expect(() => parseCrashAt("before_comit")).toThrow(
      `invalid environment variable VILANO_CRASH_AT: no crash point named "before_comit" (points: ${Object.keys(CRASH_POINTS).join(", ")})`,
    );
  });

  test("refuses a pass that is not a whole number of at least 1, and anything not <point>[@<n>]", () => {
    expect(() => parseCrashAt("after_commit@0")).toThrow("invalid environment variable VILANO_CRASH_AT: the pass after @ must be at least 1, got 0");
    expect(() => parseCrashAt("after_commit@x")).toThrow('invalid environment variable VILANO_CRASH_AT: "after_commit@x" is not <point>[@<n>]');
    expect(() => parseCrashAt("after_commit@-1")).toThrow("is not <point>[@<n>]");
    expect(() => parseCrashAt("after_commit,before_commit")).toThrow("is not <point>[@<n>]");
  });
});

describe("loadCrashPlan", () => {
  test("is null when VILANO_CRASH_AT is unset or empty, the plan otherwise", () => {
    expect(loadCrashPlan({})).toBeNull();
    expect(loadCrashPlan({ VILANO_CRASH_AT: "" })).toBeNull();
    expect(loadCrashPlan({ VILANO_CRASH_AT: "after_worker_report@3" })).toEqual({ point: "after_worker_report", pass: 3 });
  });
});

describe("crashPoint", () => {
  /** A process that arms `plan` and passes `point` three times, saying so after each pass. */
  function passThrice(plan: string | null, point: string) {
    const script = join(tempDir("vilano-crash-point-"), "pass.ts");
    const shared = join(import.meta.dir, "..", "..", "src", "shared", "index.ts");
    writeFileSync(
      script,
      `import { armCrashPoints, crashPoint, parseCrashAt } from ${JSON.stringify(shared)};
armCrashPoints(${plan === null ? "null" : `parseCrashAt(${JSON.stringify(plan)})`});
for (let i = 1; i <= 3; i++) {
  try { crashPoint(${JSON.stringify(point)}); } finally { console.log("passed " + i); }
}
`,
    );
    const proc = Bun.spawnSync([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const exitCode: number | null = proc.signalCode ? null : proc.exitCode;
    return { signal: proc.signalCode ?? null, exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  }

  test("kills the process with SIGKILL on the armed pass, with nothing after it run (not even a finally)", () => {
    expect(passThrice("after_commit@2", "after_commit")).toEqual({ signal: "SIGKILL", exitCode: null, stdout: "passed 1\n", stderr: "crash point after_commit\n" });
  });

  test("passes every other point, and every point when nothing is armed", () => {
    expect(passThrice("after_commit", "before_commit")).toEqual({ signal: null, exitCode: 0, stdout: "passed 1\npassed 2\npassed 3\n", stderr: "" });
    expect(passThrice(null, "after_commit")).toEqual({ signal: null, exitCode: 0, stdout: "passed 1\npassed 2\npassed 3\n", stderr: "" });
  });
});
