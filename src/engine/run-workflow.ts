/**
 * Runs one activation of a workflow: replays the code from the top against its history, executes
 * what is not recorded yet, and says how the activation ended.
 */
import { toFailureBody, toOptionalJson, type ActivationResult, type HistoryOp } from "../shared/index.ts";
import type { WorkflowDefinition } from "../sdk/index.ts";
import { createActivationState, type ActivationState } from "./activation-state.ts";
import { createHistory } from "./history.ts";
import type { ActivationHost } from "./host.ts";
import { createDurableContext } from "./durable-context.ts";

export interface ActivationInput {
  runId: string;
  /** The run's input as JSON text, or null. */
  input: string | null;
  ops: readonly HistoryOp[];
}

/** The flags win over what the code returned: a swallowed suspension must not complete the run. */
export function endedEarly(state: ActivationState): ActivationResult | null {
  if (state.aborted) return { type: "aborted" };
  if (state.fatal) return { type: "failed", error: state.fatal };
  if (state.turnEnd) return state.turnEnd;
  if (state.suspended) return { type: "suspended" };
  return null;
}

export async function runWorkflowActivation(
  definition: WorkflowDefinition,
  activation: ActivationInput,
  host: ActivationHost,
): Promise<ActivationResult> {
  const state = createActivationState(host);
  const ctx = createDurableContext(activation.runId, createHistory(activation.ops), host, state);
  const input = activation.input === null ? undefined : (JSON.parse(activation.input) as unknown);

  let settled: { ok: true; value: unknown } | { ok: false; error: unknown };
  try {
    settled = { ok: true, value: await definition.run(input, ctx) };
  } catch (error) {
    settled = { ok: false, error };
  }
  await state.settle();

  const ended = endedEarly(state);
  if (ended) return ended;
  if (!settled.ok) return { type: "failed", error: toFailureBody(settled.error) };
  try {
    return { type: "completed", output: toOptionalJson(settled.value, `the output of workflow "${definition.name}"`) };
  } catch (error) {
    return { type: "failed", error: { ...toFailureBody(error), retryable: false } };
  }
}
