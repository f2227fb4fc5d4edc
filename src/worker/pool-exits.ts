/**
 * A worker's end, whoever caused it. Its requests fail, its subprocess groups end, and each
 * activation it held is settled with the kernel by how it died: a hard stop charges the timed step
 * that blocked it; any other end the pool chose gives the runs back uncharged; a crash is charged to
 * the run it can be blamed on (crash-blame.ts), or, when it cannot be told, to nobody, the suspects
 * going on in cohorts (crash-cohorts.ts). An external worker leaving never costs its runs an attempt.
 */
import { VilanoError } from "../shared/index.ts";
import { judgeCrash } from "./crash-blame.ts";
import { evacuatedWhy } from "./evacuation.ts";
import { forcedTimeout } from "./hard-stop.ts";
import { end, killExecGroups, quietly } from "./pool-lifecycle.ts";
import { spawnIn } from "./pool-placement.ts";
import { addLive, type PoolState } from "./pool-state.ts";
import { isPooled, transition, type Death, type PoolWorker, type RunningStep } from "./pool-worker.ts";
import type { WorkerExit } from "./worker-process.ts";

export function onExit(state: PoolState, worker: PoolWorker, exit: WorkerExit): void {
  const { kernel, log } = state;
  const before = transition(worker, { type: "exit" });
  const wasLive = before.state === "live" || before.state === "expired";
  const ended: Death | null = before.state === "dying" ? before.death : null;
  addLive(state.retiredLive, worker.live);
  if (worker.idleTimer) clearTimeout(worker.idleTimer);
  // Subprocesses lead their own process groups, so the worker's death did not end them: end them now.
  killExecGroups(state, worker);
  if (worker.code) state.groups.get(worker.code.id)?.delete(worker);
  state.externals.delete(worker);
  const pid = worker.proc.pid;
  const external = worker.role.type === "external";
  const how = external ? "disconnected" : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  const asked = worker.requests.size > 0;
  for (const [q, request] of worker.requests) {
    clearTimeout(request.timer);
    request.reject(request.exited?.(exit) ?? new VilanoError("internal", `worker ${pid} ${how} before it answered${request.file ? ` (while importing ${request.file})` : ""}`));
    worker.requests.delete(q);
  }
  const held = [...worker.held.values()];
  if (state.closed || held.length === 0) {
    for (const h of held) end(state, worker, h);
    // A worker that ended while asked something was not idle: the request's error says how it ended.
    if (!state.closed && wasLive && ended === null && !asked) log.warn(`worker ${pid} ${how} while idle`);
    return;
  }
  // An external worker that leaves (even by crashing) is someone's terminal: its runs lose no attempt.
  const death: Death | null = ended ?? (external ? { kind: "disconnect", victims: new Map<number, RunningStep>() } : null);
  if (!death) {
    state.stats.crashes++;
    log.error(`worker ${pid} ${how} while running ${held.map((h) => h.runId).join(", ")}${exit.stderr.length ? `; last stderr: ${exit.stderr.join(" | ")}` : ""}`);
  }
  // The code that called exit may run under an earlier activation of its run (a parked execution
  // resumed keeps the context it started in): blame the run, whichever activation holds it now.
  const culprit = exit.exitedBy === null ? null : (worker.held.get(exit.exitedBy)?.runId ?? worker.gone.get(exit.exitedBy) ?? null);
  const verdicts = death ? null : judgeCrash(held, culprit);
  if (verdicts && [...verdicts.values()].includes("suspect")) {
    log.warn(`worker ${pid} ${how} with ${verdicts.size} runs on it and no word of whose code it was; nobody is charged, and those runs go on in two halves, each on a worker of its own`);
    // Before any of them is given back (the kernel hands it out again at once).
    state.cohorts.isolate(held.filter((h) => verdicts.get(h.runId) === "suspect").map((h) => h.runId));
  }
  for (const h of held) {
    let outcome: Promise<unknown>;
    const victim = death?.victims.get(h.a);
    const verdict = verdicts?.get(h.runId);
    if (death?.kind === "hard_stop" && victim) {
      outcome = kernel.hardStopped(h.runId, h.fence, forcedTimeout(victim, pid));
    } else if (death) {
      outcome = kernel.relinquish(h.runId, h.fence, death.kind === "evacuated" ? evacuatedWhy(pid) : `its worker ${pid} was killed (${death.kind.replace("_", " ")})`);
    } else if (verdict === "bystander") {
      outcome = kernel.relinquish(h.runId, h.fence, `its worker ${pid} was ended by another run's code`);
    } else if (verdict === "suspect") {
      // In a cohort of suspects next (isolated above): a crash there is the cohort's, and the rest are safe from it.
      outcome = kernel.relinquish(h.runId, h.fence, `its worker ${pid} ${how} while it ran beside other runs; not charged, it goes on among fewer suspects, on a worker of their own`);
    } else {
      // Charged: it stays on workers of its own until an activation of it ends normally.
      state.cohorts.isolate([h.runId]);
      const crash = { workerPid: pid, exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr, ...(culprit === h.runId && exit.exitedIn ? { opKey: exit.exitedIn } : {}) };
      outcome = kernel.activationCrashed(h.runId, h.fence, crash).then((crashed) => {
        if (!crashed) return;
        if (crashed.failed) log.error(`run ${h.runId} failed for good: it crashed its worker ${crashed.crashes} times in a row (worker_crashed)`);
        else log.warn(`run ${h.runId} lost its activation to worker ${pid}'s crash (${crashed.crashes} of 3 in a row); it runs again on another worker`);
      });
    }
    outcome.catch(quietly(state, `run ${h.runId}: after worker ${pid} died`)).finally(() => end(state, worker, h));
  }
  // What it held comes straight back: have a replacement starting already.
  if (worker.code && isPooled(worker) && (state.groups.get(worker.code.id)?.size ?? 0) < state.options.size) spawnIn(state, worker.code, false);
}
