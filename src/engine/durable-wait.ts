/**
 * The two halves every awaited durable op shares: resolving a recorded op in delivery order on
 * replay, and reporting a wait whose outcome comes at once, live while the code still runs, or in a
 * later activation. `onFailure` turns a stored failure body into the error the code sees.
 */
import type { FailureBody, HistoryOp, OpCommand } from "../shared/index.ts";
import type { ActivationState } from "./activation-state.ts";
import { parseStored } from "./op-values.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";

export type ToError = (error: FailureBody) => Error;

/**
 * A recorded op: its value, its stored failure thrown, or a wait while it is still open. `live`
 * waits (an ask's reply, a child's or member's end, an exit event) also take an outcome that
 * commits while this replayed code still runs, instead of waiting for another activation.
 */
export async function fromHistory(state: ActivationState, scheduler: ReplayScheduler, recorded: HistoryOp, onFailure: ToError, live = false): Promise<unknown> {
  if (recorded.status !== "completed" && recorded.status !== "failed") {
    if (recorded.status !== "waiting") return state.wait();
    const outcome = await state.waitFor(recorded.opKey, live);
    if (outcome.status === "failed") throw onFailure(outcome.error);
    return parseStored(outcome.result);
  }
  await scheduler.turn(recorded);
  if (recorded.status === "completed") return parseStored(recorded.result);
  throw onFailure(JSON.parse(recorded.error!) as FailureBody);
}

/** Reports a wait (a child's end, an exit event, a member's result) and resolves with its outcome. */
export async function reportWait(state: ActivationState, cmd: OpCommand, onFailure: ToError): Promise<unknown> {
  const res = await state.track(state.report(cmd));
  if (res.outcome === "completed") return parseStored(res.result);
  if (res.outcome === "failed") throw onFailure(res.error);
  // The outcome may commit while this code is still live: then it goes on without a replay.
  const outcome = await state.waitFor(cmd.opKey);
  if (outcome.status === "failed") throw onFailure(outcome.error);
  return parseStored(outcome.result);
}

/** Reports an op that answers with a recorded value (a status, a run id, a publish's counts). */
export async function reportValue(state: ActivationState, cmd: OpCommand, onFailure: ToError): Promise<unknown> {
  const res = await state.track(state.report(cmd));
  if (res.outcome === "failed") throw onFailure(res.error);
  return parseStored(res.outcome === "value" ? res.value : null);
}
