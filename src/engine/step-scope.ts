/**
 * Knows whether code is running inside a step's function, so that durable calls made there (which
 * would nest a durable op inside a non-durable one) are refused with a clear error.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { VilanoError } from "../shared/index.ts";

const insideStep = new AsyncLocalStorage<string>();

export function runInStep<T>(stepName: string, fn: () => T): T {
  return insideStep.run(stepName, fn);
}

export function refuseInsideStep(member: string): void {
  const step = insideStep.getStore();
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
