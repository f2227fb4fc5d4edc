/**
 * The small moves every part of the pool makes on a worker and its activations: ending a worker,
 * ending its subprocess groups, retiring it when idle, ending an activation (and removing its
 * workspace), and logging a failure that does not matter once the pool is closed.
 */
import { errorCodeOf, signalProcessGroup } from "../shared/index.ts";
import { removeWorkspace } from "../core/index.ts";
import type { PoolState } from "./pool-state.ts";
import { mayEndExecGroup } from "./exec-groups.ts";
import { isPooled, transition, type DeathKind, type Held, type PoolWorker, type RunningStep } from "./pool-worker.ts";

/** Ends a worker (its process group killed, or its connection closed) for `kind`; the first reason given stands. */
export function kill(worker: PoolWorker, kind: DeathKind, victims = new Map<number, RunningStep>()): void {
  if (worker.life.state === "dead") return;
  transition(worker, { type: "kill", death: { kind, victims } });
  worker.proc.kill();
}

export function killExecGroups(state: PoolState, worker: PoolWorker): void {
  for (const group of worker.execGroups.values()) {
    try {
      // Checked when the worker named it; signalled only while its leader is still that process
      // (or, the leader gone, while what is left of the group is that user's: exec-groups.ts).
      if (mayEndExecGroup(group)) signalProcessGroup(group.pid, "SIGKILL");
    } catch (error) {
      state.log.warn(`could not end the subprocess group ${group.pid} of worker ${worker.proc.pid}:`, error);
    }
    state.options.execLedger?.ended(group.pid);
  }
  worker.execGroups.clear();
}

/** Removes an activation's workspace off the event loop; closing the pool waits for it. */
export function removing(state: PoolState, dir: string, runId: string): void {
  const removal = removeWorkspace(dir)
    .catch((error) => state.log.warn(`run ${runId}: could not remove its workspace ${dir}:`, error))
    .finally(() => state.removals.delete(removal));
  state.removals.add(removal);
}

/** A worker with nothing to do: one of its own goes now, a pooled one after the idle time. */
export function settleIdle(state: PoolState, worker: PoolWorker): void {
  if (worker.held.size > 0 || worker.requests.size > 0 || worker.life.state !== "live") return;
  // A one-activation external worker leaves once its activation is done; others stay connected.
  if (worker.role.type === "external") return void (worker.role.takes === "none" && kill(worker, "idle"));
  if (!isPooled(worker)) return kill(worker, "idle");
  if (worker.idleTimer) clearTimeout(worker.idleTimer);
  // New work clears the timer; the check at firing is for a worker that changed state meanwhile.
  worker.idleTimer = setTimeout(() => {
    if (worker.held.size === 0 && worker.requests.size === 0 && worker.life.state === "live") kill(worker, "idle");
  }, state.settings.idleRetireMs);
  worker.idleTimer.unref();
}

/** An activation is over, however it ended: its timers stop, its workspace goes, its `run` promise resolves. */
export function end(state: PoolState, worker: PoolWorker, held: Held): void {
  if (held.ended) return;
  held.ended = true;
  for (const step of held.steps.values()) if (step.timer) clearTimeout(step.timer);
  if (held.abortTimer) clearTimeout(held.abortTimer);
  worker.held.delete(held.a);
  if (state.byRun.get(held.runId)?.held === held) state.byRun.delete(held.runId);
  // Whatever ended it (a result, a lost lease, its worker's death): its directory goes now. Most
  // activations never made one; removing a missing path costs some 5 µs, off the event loop.
  if (held.workspace !== null) removing(state, held.workspace, held.runId);
  held.resolve();
  settleIdle(state, worker);
}

/** Logs a failed kernel call, unless it says only that the lease is gone or the pool is closed. */
export const quietly = (state: PoolState, what: string) => (error: unknown) => {
  const code = errorCodeOf(error);
  if (!state.closed && code !== "stale_lease" && code !== "runtime_closed") state.log.warn(`${what}:`, error);
};
