import { describe, expect, test } from "bun:test";
import { takeBackFrom } from "../../src/worker/blocked-workers.ts";
import { newWorker, type Held, type RunningStep } from "../../src/worker/pool-worker.ts";

const held = (a: number, runId: string, extra: Partial<Held> = {}): Held => ({
  a,
  runId,
  fence: 1,
  steps: new Map(),
  abortTimer: null,
  ended: false,
  resolve: () => {},
  workspace: null,
  sentAt: a,
  heard: false,
  takenBack: false,
  ...extra,
});
const looping: RunningStep = {
  opKey: "step:loop:0",
  seq: 1,
  name: "loop",
  attempt: 1,
  timeoutMs: null,
  retry: { maxAttempts: 3, initialIntervalMs: 1_000, backoffCoefficient: 2, maxIntervalMs: 60_000, nonRetryable: [] } as unknown as RunningStep["retry"],
  deadline: null,
  timer: null,
};

function workerHolding(...activations: Held[]) {
  const worker = newWorker(null, { fresh: false, external: false });
  for (const h of activations) worker.held.set(h.a, h);
  return worker;
}

describe("takeBackFrom", () => {
  test("gives back what the worker never started and keeps the activation whose step blocks it", () => {
    const blocker = held(1, "spin", { heard: true, steps: new Map([[looping.opKey, looping]]) });
    const worker = workerHolding(blocker, held(2, "early"), held(3, "later"));
    expect(takeBackFrom(worker).map((h) => h.runId)).toEqual(["early", "later"]);
  });
  test("keeps an activation the worker has said something about (its code may be the loop)", () => {
    const worker = workerHolding(held(1, "between-ops", { heard: true }), held(2, "early"));
    expect(takeBackFrom(worker).map((h) => h.runId)).toEqual(["early"]);
  });
  test("with nothing heard at all, the oldest stays: it is the one the worker read first", () => {
    expect(takeBackFrom(workerHolding(held(1, "loops-before-any-op"), held(2, "early"))).map((h) => h.runId)).toEqual(["early"]);
    expect(takeBackFrom(workerHolding(held(1, "alone")))).toEqual([]);
  });
  test("an activation already taken back or ended is not taken again", () => {
    const worker = workerHolding(held(1, "spin", { heard: true }), held(2, "taken", { takenBack: true }), held(3, "ended", { ended: true }));
    expect(takeBackFrom(worker)).toEqual([]);
  });
});
