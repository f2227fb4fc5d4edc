import { describe, expect, test } from "bun:test";
import { isBlocked, silentFor, stepsRunningIn, takeBackFrom } from "../../src/worker/blocked-workers.ts";
import { held, running, workerHolding } from "../helpers/held-activations.ts";

describe("takeBackFrom", () => {
  test("gives back what the worker never started and keeps the activation whose step blocks it", () => {
    const blocker = running(1, "spin", "loop");
    const worker = workerHolding(blocker, held(2, "early"), held(3, "later"));
    expect(takeBackFrom(worker).map((h) => h.runId)).toEqual(["early", "later"]);
  });
  test("keeps an activation the worker has said something about (its code may be the loop)", () => {
    const worker = workerHolding(held(1, "between-ops", { heard: true }), held(2, "early"));
    expect(takeBackFrom(worker).map((h) => h.runId)).toEqual(["early"]);
  });
  test("an activation the worker read (its ack arrived) stays, though it said nothing else: its code may loop before its first op", () => {
    expect(takeBackFrom(workerHolding(held(1, "loops-before-any-op", { heard: true }), held(2, "early"))).map((h) => h.runId)).toEqual(["early"]);
    expect(takeBackFrom(workerHolding(held(1, "alone", { heard: true })))).toEqual([]);
  });
  test("with nothing read at all, everything goes back: the blocker is none of them", () => {
    expect(takeBackFrom(workerHolding(held(1, "unread"), held(2, "unread-too"))).map((h) => h.runId)).toEqual(["unread", "unread-too"]);
  });
  test("a finished activation is not taken back (its result only awaits its commit)", () => {
    expect(takeBackFrom(workerHolding(held(1, "spin", { heard: true }), held(2, "done", { finished: true })))).toEqual([]);
  });
  test("an activation already taken back or ended is not taken again", () => {
    const worker = workerHolding(held(1, "spin", { heard: true }), held(2, "taken", { takenBack: true }), held(3, "ended", { ended: true }));
    expect(takeBackFrom(worker)).toEqual([]);
  });
});

describe("a worker whose results await their commit", () => {
  // Heard from at 1_000; its activations were sent at 1 and 2 (held's sentAt is its number).
  const quietSince = (worker: ReturnType<typeof workerHolding>, lastHeard: number) => {
    Object.assign(worker, { proc: { lastHeard } });
    return worker;
  };
  test("is not silent, nor blocked, however long the commits take: it owes nothing for finished work", () => {
    const worker = quietSince(workerHolding(held(1, "r1", { heard: true, finished: true }), held(2, "r2", { heard: true, finished: true })), 1_000);
    expect(silentFor(worker, 60_000)).toBe(0);
    expect(isBlocked(worker, 60_000, 3_000)).toBe(false);
  });
  test("still owes word of what it has not finished: silence counts from the oldest of those", () => {
    const worker = quietSince(workerHolding(held(1, "r1", { heard: true, finished: true }), held(2, "r2", { heard: true, sentAt: 5_000 })), 1_000);
    expect(silentFor(worker, 60_000)).toBe(55_000);
    expect(isBlocked(worker, 60_000, 3_000)).toBe(true);
    // Taken back: no longer owed either.
    const taken = quietSince(workerHolding(held(1, "r1", { takenBack: true })), 1_000);
    expect(isBlocked(taken, 60_000, 3_000)).toBe(false);
  });
});

describe("stepsRunningIn", () => {
  test("names each running step, and the code of a read activation running outside any step; not what is unread or finished", () => {
    const blocker = running(1, "spin", "loop");
    const worker = workerHolding(blocker, held(2, "loops-early", { heard: true }), held(3, "unread"), held(4, "done", { heard: true, finished: true }));
    expect(stepsRunningIn(worker)).toEqual([{ runId: "spin", step: "loop", opKey: "step:loop:0" }, { runId: "loops-early" }]);
  });
});
