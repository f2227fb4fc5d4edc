import { describe, expect, test } from "bun:test";
import { createCohorts } from "../../src/worker/crash-cohorts.ts";

const members = (cohorts: ReturnType<typeof createCohorts<string>>, runId: string) => [...(cohorts.of(runId)?.runs ?? [])];

describe("crash cohorts", () => {
  test("suspects are split in two halves, each a cohort of its own", () => {
    const cohorts = createCohorts<string>();
    const runs = Array.from({ length: 13 }, (_, i) => `r${i}`);
    const [first, second] = cohorts.isolate(runs);
    expect([...first!.runs]).toEqual(runs.slice(0, 7));
    expect([...second!.runs]).toEqual(runs.slice(7));
    expect(cohorts.of("r0")).toBe(first);
    expect(cohorts.of("r12")).toBe(second);
  });
  test("a cohort that crashes again is split again, and the rest of it stays together", () => {
    const cohorts = createCohorts<string>();
    cohorts.isolate(["a", "b", "c", "d", "e"]);
    cohorts.isolate(["a", "b"]);
    expect(members(cohorts, "a")).toEqual(["a"]);
    expect(members(cohorts, "b")).toEqual(["b"]);
    expect(members(cohorts, "c")).toEqual(["c"]);
    expect(members(cohorts, "d")).toEqual(["d", "e"]);
  });
  test("a single run is a cohort of one", () => {
    const cohorts = createCohorts<string>();
    expect(cohorts.isolate(["x", "x"]).map((c) => [...c.runs])).toEqual([["x"]]);
    expect(cohorts.isolate([])).toEqual([]);
  });
  test("a cleared run leaves its cohort; the others stay", () => {
    const cohorts = createCohorts<string>();
    cohorts.isolate(["a", "b", "c", "d"]);
    cohorts.release("a");
    expect(cohorts.of("a")).toBeUndefined();
    expect(members(cohorts, "b")).toEqual(["b"]);
    expect(cohorts.size).toBe(3);
  });
  test("bounded: past the bound the longest-suspected runs are forgotten (runs that moved to another daemon are never released here)", () => {
    const cohorts = createCohorts<string>(4);
    cohorts.isolate(["a", "b"]);
    cohorts.isolate(["c", "d"]);
    expect(cohorts.size).toBe(4);
    cohorts.isolate(["e", "f"]);
    expect(cohorts.size).toBe(4);
    expect(cohorts.of("a")).toBeUndefined();
    expect(cohorts.of("b")).toBeUndefined();
    expect(members(cohorts, "c")).toEqual(["c"]);
    expect(members(cohorts, "e")).toEqual(["e"]);
    // A run isolated again counts as newly suspected.
    cohorts.isolate(["c"]);
    cohorts.isolate(["g"]);
    expect(cohorts.of("d")).toBeUndefined();
    expect(cohorts.of("c")).toBeDefined();
  });
});
