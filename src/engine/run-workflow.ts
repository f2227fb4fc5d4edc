/**
 * Runs one activation of a workflow: replays the code from the top against its history, executes
 * what is not recorded yet, and says how the activation ended.
 */
import { toFailureBody, toOptionalJson, type ActivationResult, type HistoryOp } from "../shared/index.ts";
import type { AnyServiceDefinition, WorkflowDefinition } from "../sdk/index.ts";
import { createDurableContext } from "./durable-context.ts";
import { drive, prepare, type Settled } from "./drive.ts";
import type { ActivationHost } from "./host.ts";

export interface ActivationInput {
  runId: string;
  project: string;
  /** The run's input as JSON text, or null. */
  input: string | null;
  ops: readonly HistoryOp[];
  /** The project's services, for `ctx.lookupSingleton`. */
  services?: ReadonlyMap<string, AnyServiceDefinition>;
}

export async function runWorkflowActivation(
  definition: WorkflowDefinition,
  activation: ActivationInput,
  host: ActivationHost,
): Promise<ActivationResult> {
  const { state, history, scheduler } = prepare(activation.ops, host);
  const ctx = createDurableContext({
    runId: activation.runId,
    project: activation.project,
    history,
    scheduler,
    host,
    state,
    ...(activation.services ? { services: activation.services } : {}),
  });
  const input = activation.input === null ? undefined : (JSON.parse(activation.input) as unknown);

  const toResult = (settled: Settled): ActivationResult => {
    if (!settled.ok) return { type: "failed", error: toFailureBody(settled.error) };
    try {
      return { type: "completed", output: toOptionalJson(settled.value, `the output of workflow "${definition.name}"`) };
    } catch (error) {
      return { type: "failed", error: { ...toFailureBody(error), retryable: false } };
    }
  };
  return drive(state, () => definition.run(input, ctx), toResult, host.settleLate);
}
