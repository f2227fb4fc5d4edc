/**
 * Runs one attempt of a step's function with its cooperative controls: an AbortSignal that fires
 * on the step's timeout or when the activation is aborted, `checkCancelled()` and `yield()`.
 * A timed-out attempt fails at the deadline even if its code ignores the signal (in-process code
 * cannot be stopped by force; the worker pool's hard stop handles code that blocks).
 */
import { formatDuration, toFailureBody, type FailureBody } from "../shared/index.ts";
import type { StepControl } from "../sdk/index.ts";
import { runInStep } from "./step-scope.ts";

// setTimeout fires at once for delays above 2^31-1 ms; longer deadlines re-arm in steps.
const MAX_TIMER_MS = 2_147_483_647;

function setLongTimeout(fn: () => void, ms: number): () => void {
  let handle: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    handle = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(left, MAX_TIMER_MS));
  };
  arm(ms);
  return () => clearTimeout(handle);
}

export type AttemptOutcome = { ok: true; value: unknown } | { ok: false; error: FailureBody };

class StepTimeoutError extends Error {
  readonly code = "timeout";
  readonly family = "timeout";
  constructor(stepName: string, timeoutMs: number) {
    super(`step "${stepName}" timed out after ${formatDuration(timeoutMs)}`);
    this.name = "TimeoutError";
  }
}

export async function runAttempt(
  step: { name: string; opKey: string },
  fn: (step: StepControl) => unknown,
  attempt: number,
  timeoutMs: number | null,
  activationSignal: AbortSignal,
): Promise<AttemptOutcome> {
  const controller = new AbortController();
  const onActivationAbort = () => controller.abort(activationSignal.reason);
  if (activationSignal.aborted) onActivationAbort();
  else activationSignal.addEventListener("abort", onActivationAbort, { once: true });

  const checkCancelled = () => {
    if (controller.signal.aborted) throw controller.signal.reason;
  };
  const control: StepControl = {
    attempt,
    signal: controller.signal,
    checkCancelled,
    yield: () => new Promise<void>((resolve) => setImmediate(resolve)).then(checkCancelled),
  };

  let clearDeadline: (() => void) | undefined;
  let onAbort: (() => void) | undefined;
  // The attempt ends at its deadline or when the activation is aborted, even if its code ignores
  // the signal: in-process code cannot be stopped by force, but the run must not wait for it.
  const stopped = new Promise<never>((_, reject) => {
    if (timeoutMs !== null) {
      clearDeadline = setLongTimeout(() => {
        const error = new StepTimeoutError(step.name, timeoutMs);
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    }
    onAbort = () => reject(controller.signal.reason);
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener("abort", onAbort, { once: true });
  });

  try {
    const work = Promise.resolve().then(() => runInStep(step, () => fn(control)));
    work.catch(() => {}); // it may settle after the race is decided
    return { ok: true, value: await Promise.race([work, stopped]) };
  } catch (thrown) {
    return { ok: false, error: toFailureBody(thrown) };
  } finally {
    clearDeadline?.();
    if (onAbort) controller.signal.removeEventListener("abort", onAbort);
    activationSignal.removeEventListener("abort", onActivationAbort);
  }
}
