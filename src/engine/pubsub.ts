/**
 * `ctx.publish` (workflows and service turns), `ctx.subscribe` / `ctx.unsubscribe` (service turns)
 * and `ctx.lookupSingleton`. Each is a durable op resolved from history on replay; a publish is
 * recorded with its deliveries, so a replay never publishes twice.
 */
import { describeValue, toOptionalJson, VilanoError, type FailureBody, type HistoryOp } from "../shared/index.ts";
import type { AnyServiceDefinition, PublishResult, SubscribeOptions, Subscription, Unsubscription } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { fromHistory, reportValue } from "./durable-wait.ts";
import { checkOptions } from "./options.ts";

/** These ops are never refused by the kernel; a stored failure would be a bug, shown as it is. */
const refused = (error: FailureBody) => new VilanoError("internal", error.message, { details: error });

function requireTopic(next: NextOp, member: string, topic: unknown): string {
  if (typeof topic !== "string" || topic.trim() === "") throw new VilanoError("validation_failed", `${member} needs a non-empty topic, got ${JSON.stringify(topic)}`);
  next.checkName(`the topic given to ${member}`, topic);
  return topic;
}

/** A subscription's `signal` option: the name of an onSignal handler, so a string of a name's length. */
function requireHandler(next: NextOp, member: string, handler: unknown): string | undefined {
  if (handler === undefined) return undefined;
  if (typeof handler !== "string" || handler === "") throw new VilanoError("validation_failed", `${member}: signal must be the name of an onSignal handler, got ${describeValue(handler)}`);
  next.checkName(`the signal handler given to ${member}`, handler);
  return handler;
}

export function createPublish(next: NextOp, state: ActivationState, scheduler: ReplayScheduler, enter: (member: string) => void) {
  return async (topic: string, payload: unknown, options?: { key?: string }): Promise<PublishResult> => {
    enter("ctx.publish()");
    requireTopic(next, "ctx.publish()", topic);
    checkOptions("ctx.publish()", options, ["key"]);
    const json = toOptionalJson(payload, `the payload published to "${topic}"`);
    const { op, recorded } = next("publish", topic, options?.key);
    if (recorded) return (await fromHistory(state, scheduler, recorded, refused)) as PublishResult;
    return (await reportValue(state, { type: "publish", opKey: op.opKey, seq: op.seq, name: topic, topic, payload: json }, refused)) as PublishResult;
  };
}

/**
 * The service-only subscription members, for the instance of `definition` handling this turn. They
 * record ops; the kernel applies them when the turn commits, so `touched()` tells the turn's result
 * to ask for that (a turn replays from its top, so every such op of the turn is called again here).
 */
export function createSubscriptions(definition: AnyServiceDefinition, next: NextOp, state: ActivationState, scheduler: ReplayScheduler) {
  let touched = false;
  const replayed = async (recorded: HistoryOp): Promise<unknown> => await fromHistory(state, scheduler, recorded, refused);
  return {
    touched: () => touched,
    async subscribe(topic: string, options?: SubscribeOptions): Promise<Subscription> {
      requireTopic(next, "ctx.subscribe()", topic);
      checkOptions("ctx.subscribe()", options, ["signal", "key"]);
      const handler = requireHandler(next, "ctx.subscribe()", options?.signal) ?? topic;
      if (!Object.hasOwn(definition.onSignal, handler)) {
        const known = Object.keys(definition.onSignal);
        throw new VilanoError(
          "validation_failed",
          `ctx.subscribe("${topic}"): service "${definition.name}" has no onSignal handler "${handler}" to deliver to (it has: ${known.length ? known.join(", ") : "none"}); add one or pass { signal: "<handler>" }`,
        );
      }
      const { op, recorded } = next("subscribe", topic, options?.key);
      touched = true;
      const said: Subscription = { topic, signal: handler };
      if (recorded) await replayed(recorded);
      else await state.track(state.report({ type: "subscribe", opKey: op.opKey, seq: op.seq, name: topic, topic, handler, maxQueued: definition.mailbox?.maxQueued ?? null }));
      return said;
    },
    async unsubscribe(topic: string, options?: SubscribeOptions): Promise<Unsubscription> {
      requireTopic(next, "ctx.unsubscribe()", topic);
      checkOptions("ctx.unsubscribe()", options, ["signal", "key"]);
      const handler = requireHandler(next, "ctx.unsubscribe()", options?.signal);
      const { op, recorded } = next("unsubscribe", topic, options?.key);
      touched = true;
      const said: Unsubscription = handler === undefined ? { topic } : { topic, signal: handler };
      if (recorded) await replayed(recorded);
      else await state.track(state.report({ type: "unsubscribe", opKey: op.opKey, seq: op.seq, name: topic, topic, handler: handler ?? null }));
      return said;
    },
  };
}

/** The one service of the project whose definition declares `discovery.singletonRole = role`. */
export function singletonDefinition(services: ReadonlyMap<string, AnyServiceDefinition> | undefined, role: string): AnyServiceDefinition {
  if (typeof role !== "string" || role.trim() === "") throw new VilanoError("validation_failed", `ctx.lookupSingleton() needs a non-empty role, got ${JSON.stringify(role)}`);
  const matching = [...(services?.values() ?? [])].filter((d) => d.discovery?.singletonRole === role);
  if (matching.length === 0) {
    const roles = [...(services?.values() ?? [])].flatMap((d) => (d.discovery?.singletonRole ? [d.discovery.singletonRole] : []));
    throw new VilanoError("not_found", `no service of this project declares discovery.singletonRole "${role}" (declared roles: ${roles.length ? roles.join(", ") : "none"})`);
  }
  if (matching.length > 1) {
    throw new VilanoError("conflict", `services ${matching.map((d) => `"${d.name}"`).join(" and ")} both declare discovery.singletonRole "${role}"; a role names one service`);
  }
  return matching[0]!;
}
