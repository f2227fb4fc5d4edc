/** Pool bookkeeping built by hand for the unit tests of the pool's pure decisions. */
import { newWorker, type Held, type RunningStep } from "../../src/worker/pool-worker.ts";
import type { WorkerProcess } from "../../src/worker/worker-process.ts";

/** Activation `a` of run `runId`, sent at time `a`, not yet heard of; `extra` overrides any field. */
export const held = (a: number, runId: string, extra: Partial<Held> = {}): Held => ({
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
  finished: false,
  ...extra,
});

/** A step named `name` with no timeout, running now. */
export const runningStep = (name: string): RunningStep => ({
  opKey: `step:${name}:0`,
  seq: 1,
  name,
  attempt: 1,
  timeoutMs: null,
  retry: { maxAttempts: 1 } as unknown as RunningStep["retry"],
  deadline: null,
  timer: null,
});

/** Activation `a` of run `runId`, heard of, with its step `name` running. */
export const running = (a: number, runId: string, name: string): Held => held(a, runId, { heard: true, steps: new Map([[`step:${name}:0`, runningStep(name)]]) });

/**
 * The process of a worker for the pure decisions: ready, alive and last heard at time 0; what it
 * is sent goes nowhere (the tests that use it never send).
 */
const quietProcess = (): WorkerProcess => ({ pid: 2, lastHeard: 0, ready: true, alive: true, send() {}, kill() {}, exited: new Promise(() => {}) });

/** A pooled worker holding these activations. */
export function workerHolding(...activations: Held[]) {
  const worker = newWorker(null, { type: "pooled" }, quietProcess());
  for (const h of activations) worker.held.set(h.a, h);
  return worker;
}
