import { describe, expect, test } from "bun:test";
import { evacuationNotice, evacuationSuspects } from "../../src/worker/evacuation.ts";
import { held, running, workerHolding } from "../helpers/held-activations.ts";

describe("evacuationSuspects", () => {
  test("several runs' work started on the blocked worker: every one of those runs is a suspect", () => {
    expect(evacuationSuspects(workerHolding(running(1, "sleeper", "nap"), running(2, "spin", "loop"), held(3, "talked", { heard: true })))).toEqual(["sleeper", "spin", "talked"]);
  });
  test("what the worker never read is no suspect, and one run's work alone is left to run", () => {
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop"), held(2, "unread"), held(3, "unread-too")))).toBeNull();
    // Nothing read at all: nobody is a suspect (the unread only waited).
    expect(evacuationSuspects(workerHolding(held(1, "first"), held(2, "second")))).toBeNull();
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop")))).toBeNull();
    expect(evacuationSuspects(workerHolding())).toBeNull();
  });
  test("a run whose code was read and says nothing (it loops before its first op) is a suspect beside a run waiting in a step", () => {
    expect(evacuationSuspects(workerHolding(running(1, "waits", "wait"), held(2, "loops-early", { heard: true })))).toEqual(["waits", "loops-early"]);
  });
  test("finished activations (results awaiting their commit) are no suspects: an idle worker with slow commits is not evacuated", () => {
    expect(evacuationSuspects(workerHolding(held(1, "done", { heard: true, finished: true }), held(2, "done-too", { heard: true, finished: true })))).toBeNull();
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop"), held(2, "done", { heard: true, finished: true })))).toBeNull();
  });
  test("two activations of one run are one run; ended or taken-back activations do not count", () => {
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop"), running(2, "spin", "other")))).toBeNull();
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop"), running(2, "done", "nap"), running(3, "gone", "nap")))).toEqual(["spin", "done", "gone"]);
    const ended = running(2, "done", "nap");
    ended.ended = true;
    const taken = running(3, "gone", "nap");
    taken.takenBack = true;
    expect(evacuationSuspects(workerHolding(running(1, "spin", "loop"), ended, taken))).toBeNull();
  });
  test("the log line names the worker, how long it was blocked and the suspects, and says nobody is charged", () => {
    expect(evacuationNotice(4242, 3_210, ["r1", "r2"])).toBe(
      "worker 4242 blocked for 3.2s by code of runs r1, r2: stopped; its runs go again, suspects on workers of their own; nobody is charged",
    );
  });
});
