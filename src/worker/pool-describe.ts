/**
 * Registration in the pool: a snapshot is described by one of its own code's pooled workers, which
 * imports it (its top-level code runs, within the time limit) and then stays for the code's first
 * activation with its modules loaded — one process start for registering and running, not two.
 * Code that throws, exits or never settles gives the errors a one-shot describe gives (describe.ts)
 * and takes its worker with it: a worker that half-imported code which failed is never given work.
 */
import { VilanoError } from "../shared/index.ts";
import type { CodeInfo, CodeRef } from "../core/index.ts";
import { codeInfoOf, importExited, importTimedOut } from "./describe.ts";
import { kill } from "./pool-lifecycle.ts";
import { spawnIn } from "./pool-placement.ts";
import { adoptStandby } from "./pool-standby.ts";
import type { PoolState } from "./pool-state.ts";
import { isPooled, type PendingRequest, type PoolWorker } from "./pool-worker.ts";

export function describeInPool(state: PoolState, code: CodeRef, timeLimitMs: number): Promise<CodeInfo> {
  if (state.closed) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
  const { worker, standby } = describingWorker(state, code);
  const described = describeOn(state, worker, code, timeLimitMs, standby);
  if (!standby) return described;
  // The worker started ahead ended before it began to import (it died idle, or could not move to
  // the code's folder): that says nothing of the code, so a worker started for it tries once.
  return described.catch((error: unknown) => {
    if (!(error instanceof EndedBeforeImport)) throw error;
    return describeOn(state, spawnIn(state, code, false), code, timeLimitMs, false);
  });
}

class EndedBeforeImport extends Error {}

function describeOn(state: PoolState, worker: PoolWorker, code: CodeRef, timeLimitMs: number, standby: boolean): Promise<CodeInfo> {
  const q = state.nextRequest++;
  const asked = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      const pending = worker.requests.get(q);
      worker.requests.delete(q);
      reject(importTimedOut(pending?.file, timeLimitMs));
      kill(worker, "request_timeout");
    }, timeLimitMs);
    const pending: PendingRequest = {
      resolve,
      reject,
      timer,
      exited: (exit) => (standby && pending.file === undefined ? new EndedBeforeImport("the worker started ahead ended") : importExited(exit, pending.file)),
    };
    worker.requests.set(q, pending);
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.proc.send({ t: "describe", q, code });
  });
  return asked.then(codeInfoOf).catch((error: unknown) => {
    // Whatever its top-level code left behind (timers, half-made modules) goes with the process.
    if (worker.held.size === 0) kill(worker, "import_failed");
    throw error;
  });
}

/**
 * An idle pooled worker of this code (kept from an earlier describe), the worker the pool started
 * ahead of any code (pool-standby.ts), or a new one: of its own with `fresh` isolation, whose
 * activations each get a new process anyway, so it goes once it has answered.
 */
function describingWorker(state: PoolState, code: CodeRef): { worker: PoolWorker; standby: boolean } {
  if (state.options.isolation?.(code) === "fresh") return { worker: spawnIn(state, code, true), standby: false };
  for (const w of state.groups.get(code.id) ?? []) {
    if (w.life.state === "live" && w.proc.alive && isPooled(w) && w.held.size === 0 && w.requests.size === 0) return { worker: w, standby: false };
  }
  const adopted = adoptStandby(state, code);
  return adopted ? { worker: adopted, standby: true } : { worker: spawnIn(state, code, false), standby: false };
}
