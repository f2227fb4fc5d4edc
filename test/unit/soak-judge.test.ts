import { describe, expect, test } from "bun:test";
import { statusKib } from "../../scripts/soak/daemon-memory.ts";
import { judgeRun } from "../../scripts/soak/judge.ts";
import { parseSoakOptions } from "../../scripts/soak/options.ts";
import { planPoison } from "../../scripts/soak/poison.ts";
import { mulberry32 } from "../helpers/seeded.ts";

const crashed = { code: "worker_crashed", reason: "worker_crashed", message: "the worker running r1-3 crashed 3 times in a row (the last one was killed by SIGKILL)" };

describe("soak judge", () => {
  test("an ordinary run that completes with its output passes", () => {
    expect(judgeRun("run r1-3 (soak/steps)", { kind: "output", output: 10 }, { found: true, status: "completed", output: 10 }, 30)).toEqual({ ok: true });
  });

  test("an ordinary run failed with worker_crashed is an innocent quarantined, with its status and error named", () => {
    const verdict = judgeRun("run r1-3 (soak/steps)", { kind: "output", output: 10 }, { found: true, status: "failed", error: crashed }, 30);
    expect(verdict).toEqual({
      ok: false,
      figure: "quarantined",
      problem: "innocent run r1-3 (soak/steps) quarantined: failed (worker_crashed): the worker running r1-3 crashed 3 times in a row (the last one was killed by SIGKILL)",
    });
  });

  test("an ordinary run still running after the wait is blocked; one that is missing or wrong is lost", () => {
    expect(judgeRun("run r1-3 (soak/nap)", { kind: "output", output: 5 }, { found: true, status: "running" }, 30)).toMatchObject({ figure: "blocked", problem: "run r1-3 (soak/nap) is blocked: still running after 30 s" });
    expect(judgeRun("run r1-3 (soak/nap)", { kind: "output", output: 5 }, { found: false, message: "not_found: no such run" }, 30)).toMatchObject({ figure: "lost" });
    expect(judgeRun("run r1-3 (soak/nap)", { kind: "output", output: 5 }, { found: true, status: "completed", output: 6 }, 30)).toMatchObject({
      figure: "lost",
      problem: "run r1-3 (soak/nap): completed with output 6, expected completed with output 5",
    });
  });

  test("a neighbour kill must end worker_crashed, a value over the cap value_too_large, a cancelled loop cancelled", () => {
    expect(judgeRun("k", { kind: "worker_crashed" }, { found: true, status: "failed", error: crashed }, 30)).toEqual({ ok: true });
    expect(judgeRun("h", { kind: "value_too_large" }, { found: true, status: "failed", error: { code: "value_too_large", message: "too big" } }, 30)).toEqual({ ok: true });
    // A step's result over the cap fails the step in the worker; uncaught, the run ends step_failed with the cap's words.
    const stepFailed = { code: "step_failed", message: 'step "huge" failed: the result of step "huge" (op step:huge:0) is 5242882 bytes, more than the limit of 4194304 bytes (VILANO_MAX_VALUE_BYTES)' };
    expect(judgeRun("h", { kind: "value_too_large" }, { found: true, status: "failed", error: stepFailed }, 30)).toEqual({ ok: true });
    expect(judgeRun("h", { kind: "value_too_large" }, { found: true, status: "failed", error: { code: "step_failed", message: 'step "huge" failed: boom' } }, 30)).toMatchObject({ figure: "poison" });
    expect(judgeRun("l", { kind: "cancelled" }, { found: true, status: "cancelled", error: { code: "cancelled" } }, 30)).toEqual({ ok: true });
  });

  test("a poison run that hangs or ends otherwise is reported as poison, never as an innocent", () => {
    expect(judgeRun("run r2-huge0 (soak/huge-value)", { kind: "value_too_large" }, { found: true, status: "running" }, 30)).toMatchObject({
      figure: "poison",
      problem: "poison run r2-huge0 (soak/huge-value) hangs: still running after 30 s",
    });
    expect(judgeRun("run r2-huge0 (soak/huge-value)", { kind: "value_too_large" }, { found: true, status: "failed", error: crashed }, 30)).toMatchObject({ figure: "poison" });
    expect(judgeRun("run r2-loop0 (soak/spin)", { kind: "cancelled" }, { found: true, status: "completed", output: "escaped" }, 30)).toMatchObject({ figure: "poison" });
  });
});

describe("soak options", () => {
  test("defaults: 500 rounds, seed 1, poison on, a 256 MiB bound", () => {
    expect(parseSoakOptions([])).toEqual({ rounds: 500, seed: 1, poison: true, maxRssMb: 256, waitSeconds: 30 });
    expect(parseSoakOptions(["--rounds", "5", "--poison", "off", "--max-rss-mb", "300"])).toMatchObject({ rounds: 5, poison: false, maxRssMb: 300 });
  });

  test("a bad flag is refused with a message naming it", () => {
    expect(() => parseSoakOptions(["--rounds", "five"])).toThrow('--rounds must be a whole number from 1 to 1000000, got "five"');
    expect(() => parseSoakOptions(["--poison", "maybe"])).toThrow('--poison must be "on" or "off", got "maybe"');
    expect(() => parseSoakOptions(["--round", "5"])).toThrow("unknown flag --round");
    expect(() => parseSoakOptions(["--seed"])).toThrow("--seed needs a value");
  });
});

describe("soak poison and memory", () => {
  test("the poison plan is seeded: the same seed gives the same plan, and values are over the cap", () => {
    const cap = 4 * 1024 * 1024;
    const plans = (seed: number) => Array.from({ length: 200 }, ((random) => () => planPoison(random, cap))(mulberry32(seed)));
    expect(plans(7)).toEqual(plans(7));
    const all = plans(7);
    for (const bytes of all.flatMap((p) => [...p.hugeValues, ...p.bigLogs])) expect(bytes).toBeGreaterThan(cap);
    expect(all.some((p) => p.neighbourKills > 0 && p.dwells.length >= 3)).toBe(true);
    expect(all.some((p) => p.loops > 0)).toBe(true);
    expect(all.some((p) => p.neighbourKills + p.hugeValues.length + p.bigLogs.length + p.loops === 0)).toBe(true);
  });

  test("VmRSS and VmHWM are read from a /proc status text in KiB", () => {
    const status = "Name:\tvilano\nVmHWM:\t  397348 kB\nVmRSS:\t  302404 kB\nThreads:\t9\n";
    expect(statusKib(status, "VmRSS")).toBe(302404);
    expect(statusKib(status, "VmHWM")).toBe(397348);
    expect(statusKib("Name:\tx\n", "VmRSS")).toBeNull();
  });
});
