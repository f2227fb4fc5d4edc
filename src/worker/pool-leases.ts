/**
 * The pool's periodic look at its workers (every quarter of the lease time, 50–250 ms): idle
 * spares beyond what the code may have now retire; what a blocked worker never read goes to another
 * worker; a blocked worker holding several runs' started work is evacuated (evacuation.ts); and a
 * worker stopped (SIGSTOP) and silent past its lease loses its activations.
 */
import { formatDuration, isProcessStopped } from "../shared/index.ts";
import { describeBlocked, isBlocked, roomFor, silentFor, takeBackFrom } from "./blocked-workers.ts";
import { evacuationNotice, evacuationSuspects } from "./evacuation.ts";
import { end, kill, killExecGroups, quietly } from "./pool-lifecycle.ts";
import { sparesOf, type PoolState } from "./pool-state.ts";
import { isPooled, remember, transition, type PoolWorker } from "./pool-worker.ts";

/** How long an expired worker is kept before it is retired, should it never wake up. */
const EXPIRED_MAX_MS = 60_000;

export function checkLeases(state: PoolState): void {
  const now = Date.now();
  retireSpares(state, now);
  takeBackFromBlocked(state, now);
  evacuateBlocked(state, now);
  for (const group of [...state.groups.values(), state.externals]) {
    for (const worker of group) {
      if (worker.life.state !== "live" || worker.held.size === 0 || now - worker.proc.lastHeard <= state.settings.leaseTtlMs) continue;
      if (isProcessStopped(worker.proc.pid)) expire(state, worker);
    }
  }
}

/** Idle workers beyond what a body of code may have now (its size, plus a spare per blocked worker) retire. */
function retireSpares(state: PoolState, now: number): void {
  const { size } = state.options;
  for (const group of state.groups.values()) {
    const live = [...group].filter((w) => w.life.state === "live" && isPooled(w));
    if (live.length <= size) continue;
    let surplus = live.length - roomFor(live, size, sparesOf(state, live[0]!.code), now);
    for (const w of live) {
      if (surplus <= 0) break;
      if (w.held.size > 0 || w.requests.size > 0) continue;
      kill(w, "idle");
      surplus--;
    }
  }
}

/**
 * Work sent to a worker just before it was seen blocked would wait behind the blocker for as long
 * as it runs: the activations the worker never started go back to the kernel (a new fence) and on
 * to another worker — a spare, when every worker is blocked. Only where they have somewhere else
 * to go: with every worker blocked and no spare allowed, they stay and wait.
 */
function takeBackFromBlocked(state: PoolState, now: number): void {
  for (const group of state.groups.values()) {
    // Workers of their own (a cohort's) included: what they never started goes to a new one of the cohort's.
    const all = [...group].filter((w) => w.life.state === "live" && w.proc.alive);
    if (all.length === 0) continue;
    const live = all.filter(isPooled);
    const spares = sparesOf(state, all[0]!.code);
    const blocked = live.filter((w) => isBlocked(w, now, spares.afterMs));
    const elsewhere = blocked.length < live.length || live.length < roomFor(live, state.options.size, spares, now);
    for (const worker of all) {
      if (!isBlocked(worker, now, spares.afterMs) || (isPooled(worker) && !elsewhere)) continue;
      const taken = takeBackFrom(worker);
      if (taken.length === 0) continue;
      const pid = worker.proc.pid;
      state.log.warn(
        `worker ${pid} has been silent past ${formatDuration(spares.afterMs)} (blocked: ${describeBlocked([worker])}); ` +
          `runs sent to it that it has not started go to another worker: ${taken.map((h) => h.runId).join(", ")}`,
      );
      for (const held of taken) {
        held.takenBack = true;
        // Should it wake up, it aborts them before their code gets far, and what it still sends is refused by the fence.
        remember(worker, held.a, held.runId);
        worker.proc.send({ t: "abort", a: held.a, code: "stale_lease", message: `taken back from worker ${pid}, which was blocked` });
        state.lastWorker.delete(held.runId);
        state.kernel
          .relinquish(held.runId, held.fence, `its worker ${pid} was blocked by another run's code before it started; it goes to another worker`)
          .catch(quietly(state, `run ${held.runId}: could not take it back from blocked worker ${pid}`))
          .finally(() => end(state, worker, held));
      }
    }
  }
}

/**
 * A blocked worker in which work of several runs had started is stopped: what started there waits
 * behind the blocker for as long as it runs. Nobody is charged; the runs go again, suspects halved
 * into cohorts on workers of their own, until the blocker is alone (evacuation.ts). A stopped
 * (SIGSTOP) worker is left to its lease.
 */
function evacuateBlocked(state: PoolState, now: number): void {
  for (const group of state.groups.values()) {
    for (const worker of group) {
      if (worker.life.state !== "live" || !worker.proc.alive || !isBlocked(worker, now, sparesOf(state, worker.code).afterMs)) continue;
      const suspects = evacuationSuspects(worker);
      if (!suspects || isProcessStopped(worker.proc.pid)) continue;
      state.stats.evacuations++;
      state.log.warn(evacuationNotice(worker.proc.pid, silentFor(worker, now), suspects));
      // Before any of them is given back (the kernel hands it out again at once).
      state.cohorts.isolate(suspects);
      kill(worker, "evacuated");
    }
  }
}

/** A worker stopped and silent past its lease: its activations go elsewhere, and it is retired when it wakes (or in a minute). */
function expire(state: PoolState, worker: PoolWorker): void {
  const { log } = state;
  state.stats.expired++;
  transition(worker, { type: "expire" });
  const runs = [...worker.held.values()];
  log.warn(`worker ${worker.proc.pid} is stopped and silent past its lease (${formatDuration(state.settings.leaseTtlMs)}); its runs go to other workers: ${runs.map((h) => h.runId).join(", ")}`);
  for (const held of runs) {
    remember(worker, held.a, held.runId);
    state.kernel
      .relinquish(held.runId, held.fence, `lease expired: worker ${worker.proc.pid} stopped answering`)
      .catch((error) => log.error(`run ${held.runId}: could not take it back from worker ${worker.proc.pid}:`, error))
      .finally(() => end(state, worker, held));
  }
  // Its subprocesses were part of the work that now goes elsewhere.
  killExecGroups(state, worker);
  const retire = setTimeout(() => kill(worker, "expired"), EXPIRED_MAX_MS);
  retire.unref();
}
