/**
 * Runs one service turn: replays the turn (scoped to its message) from the top, runs `init` when
 * the instance has no state yet, calls the handler for the message and says how the turn ended.
 * State is replaced only when the handler's result has its own `state` property.
 */
import {
  NO_RETRY,
  resolveRetryPolicy,
  type ResolvedRetryPolicy,
  toFailureBody,
  toOptionalJson,
  VilanoError,
  type ActivationResult,
  type HistoryOp,
  type TurnInput,
} from "../shared/index.ts";
import type { AnyServiceDefinition } from "../sdk/index.ts";
import { createDurableContext } from "./durable-context.ts";
import { nameCheckOf } from "./next-op.ts";
import { drive, prepare, type Settled } from "./drive.ts";
import type { ActivationHost } from "./host.ts";
import { serviceTurnControls } from "./turn-controls.ts";
import { createSubscriptions } from "./pubsub.ts";

export interface TurnActivationInput {
  runId: string;
  project: string;
  ops: readonly HistoryOp[];
  turn: TurnInput;
  /** The project's services, for `ctx.lookupSingleton`. */
  services?: ReadonlyMap<string, AnyServiceDefinition>;
}

const GROUP = { send: "onSend", ask: "onAsk", signal: "onSignal" } as const;
const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

export async function runServiceTurn(definition: AnyServiceDefinition, activation: TurnActivationInput, host: ActivationHost): Promise<ActivationResult> {
  const { turn } = activation;
  const { state, history, scheduler } = prepare(activation.ops, host, turn.scope);
  const subscriptions = createSubscriptions(definition, Object.assign(history.next.bind(history), { checkName: nameCheckOf(history) }), state, scheduler);
  const ctx = createDurableContext({
    runId: activation.runId,
    project: activation.project,
    history,
    scheduler,
    host,
    state,
    turn: serviceTurnControls(turn.mailbox, state, subscriptions),
    turnAttempt: turn.message.attempt,
    ...(activation.services ? { services: activation.services } : {}),
  });
  const group = GROUP[turn.message.kind];
  const handlers = definition[group] as Record<string, (payload: unknown, state: unknown, ctx: unknown) => unknown>;
  const handler = Object.hasOwn(handlers, turn.message.name) ? handlers[turn.message.name] : undefined;
  if (!handler) {
    const known = Object.keys(handlers);
    const error = new VilanoError(
      "validation_failed",
      `service "${definition.name}" has no ${group} handler "${turn.message.name}" (it has: ${known.length ? known.join(", ") : "none"})`,
    );
    return { type: "rejected", error: { ...toFailureBody(error), retryable: false } };
  }

  let retry: ResolvedRetryPolicy;
  try {
    retry = resolveRetryPolicy(definition.retry);
  } catch (error) {
    // service() validates its policy; a definition built some other way fails its turns clearly.
    return { type: "turn_failed", error: { ...toFailureBody(error), retryable: false }, retry: NO_RETRY };
  }
  let initState: { value: unknown } | undefined;
  const toResult = (settled: Settled): ActivationResult => {
    if (!settled.ok) return { type: "turn_failed", error: toFailureBody(settled.error), retry };
    try {
      const completed = completeTurn(definition.name, turn, settled.value, initState);
      // The kernel applies the turn's subscribe and unsubscribe ops when it commits the turn.
      if (subscriptions.touched()) completed.subscriptions = true;
      return completed;
    } catch (error) {
      return { type: "turn_failed", error: { ...toFailureBody(error), retryable: false }, retry };
    }
  };
  const run = async () => {
    let current = parse(turn.state);
    if (turn.state === null && definition.init) {
      current = await definition.init(parse(turn.keyInput), ctx);
      initState = { value: current };
    }
    return handler(parse(turn.message.payload), current, ctx);
  };
  return drive(state, run, toResult, host.settleLate);
}

/** Validates the handler's result and encodes what the turn commits. */
function completeTurn(service: string, turn: TurnInput, result: unknown, initState: { value: unknown } | undefined): ActivationResult & { type: "turn_completed" } {
  const where = `${service}.${turn.message.name}`;
  if (result !== undefined && (typeof result !== "object" || result === null || Array.isArray(result))) {
    throw new VilanoError("validation_failed", `handler ${where} must return an object { state?, reply?, stop? } or nothing, got ${JSON.stringify(result)}`);
  }
  const r = (result ?? {}) as { state?: unknown; reply?: unknown; stop?: unknown };
  if (turn.message.kind === "ask" && !Object.hasOwn(r, "reply")) {
    throw new VilanoError("validation_failed", `ask handler ${where} must return { reply }`);
  }
  const completed: ActivationResult & { type: "turn_completed" } = {
    type: "turn_completed",
    reply: turn.message.kind === "ask" ? toOptionalJson(r.reply, `the reply of ${where}`) : null,
    stop: r.stop === true,
  };
  if (Object.hasOwn(r, "state")) completed.state = toOptionalJson(r.state, `the state returned by ${where}`);
  else if (initState) completed.state = toOptionalJson(initState.value, `the state returned by ${service}.init`);
  return completed;
}
