/**
 * `ctx.publish` (workflows and service turns), `ctx.subscribe` / `ctx.unsubscribe` (service turns)
 * and `ctx.lookupSingleton`. Each is a durable op resolved from history on replay; a publish is
 * recorded with its deliveries, so a replay never publishes twice.
 */
import { toOptionalJson, VilanoError, type FailureBody, type HistoryOp } from "../shared/index.ts";
import type { AnyServiceDefinition, PublishResult, SubscribeOptions } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./durable-context.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

function requireTopic(member: string, topic: unknown): string {
  if (typeof topic !== "string" || topic.trim() === "") throw new VilanoError("validation_failed", `${member} needs a non-empty topic, got ${JSON.stringify(topic)}`);
  return topic;
}

function checkKeys(member: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) throw new VilanoError("validation_failed", `${member} options must be an object`);
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new VilanoError("validation_failed", `${member}: unknown option ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: ${known.join(", ")})`);
  }
}

export function createPublish(next: NextOp, state: ActivationState, scheduler: ReplayScheduler, enter: (member: string) => void) {
  return async (topic: string, payload: unknown, options?: { key?: string }): Promise<PublishResult> => {
    enter("ctx.publish()");
    requireTopic("ctx.publish()", topic);
    checkKeys("ctx.publish()", options, ["key"]);
    const json = toOptionalJson(payload, `the payload published to "${topic}"`);
    const { op, recorded } = next("publish", topic, options?.key);
    if (recorded) {
      if (recorded.status !== "completed") return state.wait();
      await scheduler.turn(recorded);
      return parse(recorded.result) as PublishResult;
    }
    const res = await state.track(state.report({ type: "publish", opKey: op.opKey, seq: op.seq, name: topic, topic, payload: json }));
    return parse(res.outcome === "value" ? res.value : null) as PublishResult;
  };
}

/** The service-only subscription members, for the instance of `definition` handling this turn. */
export function createSubscriptions(definition: AnyServiceDefinition, next: NextOp, state: ActivationState, scheduler: ReplayScheduler) {
  const replayed = async (recorded: HistoryOp): Promise<void> => {
    if (recorded.status !== "completed") {
      if (recorded.status === "failed") throw new VilanoError("validation_failed", (JSON.parse(recorded.error!) as FailureBody).message);
      return state.wait();
    }
    await scheduler.turn(recorded);
  };
  return {
    async subscribe(topic: string, options?: SubscribeOptions): Promise<void> {
      requireTopic("ctx.subscribe()", topic);
      checkKeys("ctx.subscribe()", options, ["signal", "key"]);
      const handler = options?.signal ?? topic;
      if (!Object.hasOwn(definition.onSignal, handler)) {
        const known = Object.keys(definition.onSignal);
        throw new VilanoError(
          "validation_failed",
          `ctx.subscribe("${topic}"): service "${definition.name}" has no onSignal handler "${handler}" to deliver to (it has: ${known.length ? known.join(", ") : "none"}); add one or pass { signal: "<handler>" }`,
        );
      }
      const { op, recorded } = next("subscribe", topic, options?.key);
      if (recorded) return replayed(recorded);
      await state.track(state.report({ type: "subscribe", opKey: op.opKey, seq: op.seq, name: topic, topic, handler, maxQueued: definition.mailbox?.maxQueued ?? null }));
    },
    async unsubscribe(topic: string, options?: SubscribeOptions): Promise<void> {
      requireTopic("ctx.unsubscribe()", topic);
      checkKeys("ctx.unsubscribe()", options, ["signal", "key"]);
      const { op, recorded } = next("unsubscribe", topic, options?.key);
      if (recorded) return replayed(recorded);
      await state.track(state.report({ type: "unsubscribe", opKey: op.opKey, seq: op.seq, name: topic, topic, handler: options?.signal ?? null }));
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
