/**
 * Knows whether code is running inside a step's function, so that durable calls made there (which
 * would nest a durable op inside a non-durable one) are refused with a clear error.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { VilanoError } from "../shared/index.ts";

const insideStep = new AsyncLocalStorage<{ name: string; opKey: string }>();

export function runInStep<T>(step: { name: string; opKey: string }, fn: () => T): T {
  return insideStep.run(step, fn);
}

/** The op key of the step whose function is running now, if any (a worker names it when user code exits it). */
export function currentStepOpKey(): string | undefined {
  return insideStep.getStore()?.opKey;
}

export function refuseInsideStep(member: string): void {
  const step = insideStep.getStore()?.name;
  if (step !== undefined) {
    throw new VilanoError(
      "wrong_context",
      `${member} cannot be called inside step "${step}": a step is one non-durable unit of work; call it from the workflow or turn instead`,
    );
  }
}

/** Marks a promise handed to user code as handled, so one the code awaits later cannot crash the process. */
export function handed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
