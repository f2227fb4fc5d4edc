/** Runs one activation's code with the replay engine: a service turn or a workflow, found by name. */
import { runServiceTurn, runWorkflowActivation, type ActivationHost, type WorkflowLiveExecutions } from "../engine/index.ts";
import { VilanoError, type ActivationResult, type HistoryOp, type TurnInput } from "../shared/index.ts";
import type { Definitions } from "./definitions.ts";

export interface ActivationCode {
  run: { id: string; project: string; name: string; input: string | null };
  ops: readonly HistoryOp[];
  turn?: TurnInput | undefined;
}

/**
 * `where` names the code in the error when it lacks the definition (a snapshot, "this runtime");
 * `live` keeps suspended workflow executions for their runs' next activations here.
 */
export function runActivationCode(
  definitions: Definitions,
  where: string,
  activation: ActivationCode,
  host: ActivationHost,
  live?: WorkflowLiveExecutions,
): Promise<ActivationResult> {
  const { run, ops, turn } = activation;
  if (turn) {
    const definition = definitions.services.get(run.name);
    if (!definition) throw new VilanoError("unknown_service", `${where} has no service "${run.name}"`);
    return runServiceTurn(definition, { runId: run.id, project: run.project, ops, turn, services: definitions.services }, host);
  }
  const definition = definitions.workflows.get(run.name);
  if (!definition) throw new VilanoError("unknown_workflow", `${where} has no workflow "${run.name}"`);
  return runWorkflowActivation(definition, { runId: run.id, project: run.project, input: run.input, ops, services: definitions.services }, host, live);
}
