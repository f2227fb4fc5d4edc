/**
 * Judging a worker that went silent past a timed step's deadline. A blocked worker cannot say whose
 * code blocks it, so the judgement is by what ran there: the timed steps past their deadline are
 * the victims, and the activations with any other step running are suspects too (one that awaited
 * I/O and then went into a loop, say). With no other suspect, the victims are charged.
 */
import { formatDuration, type OpCommand } from "../shared/index.ts";
import type { Held, RunningStep } from "./pool-worker.ts";

export function judgeBlockedWorker(held: Iterable<Held>, now: number): { victims: Map<number, RunningStep>; suspects: string[] } {
  const victims = new Map<number, RunningStep>();
  const suspects: string[] = [];
  for (const h of held) {
    let victim: RunningStep | undefined;
    for (const step of h.steps.values()) if (step.deadline !== null && now >= step.deadline) victim ??= step;
    if (victim) victims.set(h.a, victim);
    else if (h.steps.size > 0) suspects.push(h.runId);
  }
  return { victims, suspects };
}

/** The failure a hard-stopped attempt is recorded with (it keeps the step's retry policy). */
export const forcedTimeout = (step: RunningStep, pid: number): OpCommand & { type: "step_failed" } => ({
  type: "step_failed",
  opKey: step.opKey,
  seq: step.seq,
  name: step.name,
  attempt: step.attempt,
  retry: step.retry,
  error: {
    name: "TimeoutError",
    message: `step "${step.name}" blocked its worker past its timeout of ${formatDuration(step.timeoutMs!)}; the worker was killed`,
    code: "timeout",
    family: "timeout",
    retryable: true,
    details: { forcedTermination: true, workerPid: pid, timeoutMs: step.timeoutMs },
  },
});
