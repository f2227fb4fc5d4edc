/**
 * Runs one attempt of a step's function with its cooperative controls: an AbortSignal that fires
 * on the step's timeout or when the activation is aborted, `checkCancelled()` and `yield()`.
 * A timed-out attempt fails at the deadline even if its code ignores the signal (in-process code
 * cannot be stopped by force; the worker pool's hard stop handles code that blocks).
 */
import { formatDuration, toFailureBody, type FailureBody } from "../shared/index.ts";
import type { StepControl } from "../sdk/index.ts";

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
  stepName: string,
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

  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline =
    timeoutMs === null
      ? null
      : new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new StepTimeoutError(stepName, timeoutMs);
            controller.abort(error);
            reject(error);
          }, timeoutMs);
        });

  try {
    const work = Promise.resolve().then(() => fn(control));
    const value = await (deadline ? Promise.race([work, deadline]) : work);
    return { ok: true, value };
  } catch (thrown) {
    return { ok: false, error: toFailureBody(thrown) };
  } finally {
    if (timer) clearTimeout(timer);
    activationSignal.removeEventListener("abort", onActivationAbort);
  }
}
