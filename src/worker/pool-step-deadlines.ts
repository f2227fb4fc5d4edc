/**
 * The hard stop of timed steps: a worker announces each step attempt with its timeout; if it is
 * silent past the deadline plus a grace (its event loop is blocked, so the step's own timeout
 * cannot fire), its process group is killed and the step charged (hard-stop.ts judges whom).
 */
import type { OpCommand } from "../shared/index.ts";
import { judgeBlockedWorker } from "./hard-stop.ts";
import { kill } from "./pool-lifecycle.ts";
import type { PoolState } from "./pool-state.ts";
import type { PoolWorker, RunningStep } from "./pool-worker.ts";

const MAX_TIMER_MS = 2_147_483_647;

/** Looks at the step again at `at` (ms since epoch). */
export function armStep(state: PoolState, worker: PoolWorker, step: RunningStep, at: number): void {
  step.timer = setTimeout(() => checkStep(state, worker, step), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
}

function checkStep(state: PoolState, worker: PoolWorker, step: RunningStep): void {
  const grace = state.settings.hardStopGraceMs;
  const { log } = state;
  step.timer = null;
  if (worker.life.state !== "live" || step.deadline === null) return;
  const now = Date.now();
  if (now < step.deadline + grace) return armStep(state, worker, step, step.deadline + grace);
  const quiet = now - worker.proc.lastHeard;
  // Still talking after the deadline: its event loop runs, so the step's own timeout ends it.
  if (quiet < grace) return armStep(state, worker, step, worker.proc.lastHeard + grace + 1);
  const { victims, suspects } = judgeBlockedWorker(worker.held.values(), now);
  state.stats.hardStops++;
  const names = [...victims].map(([a, s]) => `${worker.held.get(a)?.runId} ${s.opKey}`).join(", ");
  if (suspects.length === 0) {
    log.warn(`worker ${worker.proc.pid} was silent ${quiet} ms past the deadline of ${names}; killing it (hard stop)`);
    return kill(worker, "hard_stop", victims);
  }
  // Other steps were running too, so the blocker is not known: nobody is charged, and the runs
  // that had a step running go on in two halves, each on a worker of its own, where a blocker shows itself.
  state.cohorts.isolate([...worker.held.values()].filter((held) => held.steps.size > 0).map((held) => held.runId));
  log.warn(
    `worker ${worker.proc.pid} was silent ${quiet} ms past the deadline of ${names}, with steps of ${suspects.join(", ")} running too; ` +
      "killing it; nobody is charged, and those runs go on in two halves, each on a worker of its own",
  );
  kill(worker, "hard_stop_unclear");
}

/** The step attempt ended (its worker said so, or reported its outcome): no deadline to watch. */
export function clearStep(worker: PoolWorker, a: number, opKey: string): void {
  const held = worker.held.get(a);
  const step = held?.steps.get(opKey);
  if (!held || !step) return;
  if (step.timer) clearTimeout(step.timer);
  held.steps.delete(opKey);
}

/** A report ends the step attempt it is the outcome of. */
export function clearReportedStep(worker: PoolWorker, a: number, cmd: OpCommand): void {
  if (cmd.type === "step_completed" || cmd.type === "step_failed") clearStep(worker, a, cmd.opKey);
}
