/**
 * `ctx.connect` and the refs it returns inside a run: connect, send, signal, ask and status are
 * durable ops, resolved from history on replay. An ask suspends the run until the reply commits.
 */
import { parseDuration, serviceInstanceId, ServiceCallError, toJson, toOptionalJson, VilanoError, type FailureBody, type HistoryOp } from "../shared/index.ts";
import { isServiceDefinition, type AnyServiceDefinition, type DurableContext, type ServiceStatus } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./durable-context.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { computeKey, createRef, refShapeOf, type RefCall } from "./service-ref.ts";
import { handed } from "./step-scope.ts";
import type { Relations } from "./relations.ts";

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

export function createServiceCalls(
  project: string,
  next: NextOp,
  state: ActivationState,
  scheduler: ReplayScheduler,
  enter: (member: string) => void,
  relations: Relations,
): Pick<DurableContext, "connect"> {
  /** Resolves a recorded op in delivery order: its value, its stored failure, or a wait while it is open. */
  const fromHistory = async (recorded: HistoryOp, serviceRunId: string, name: string): Promise<unknown> => {
    if (recorded.status !== "completed" && recorded.status !== "failed") return state.wait();
    await scheduler.turn(recorded);
    if (recorded.status === "completed") return parse(recorded.result);
    throw new ServiceCallError(serviceRunId, name, JSON.parse(recorded.error!) as FailureBody);
  };

  async function call(definition: AnyServiceDefinition, serviceRunId: string, c: RefCall): Promise<unknown> {
    enter(`ref.${c.kind}.${c.handler}()`);
    const name = c.kind === "signal" ? `${definition.name}.signal:${c.handler}` : `${definition.name}.${c.handler}`;
    const payload = toOptionalJson(c.payload, `the payload of ${name}`);
    const maxQueued = definition.mailbox?.maxQueued ?? null;
    if (c.kind === "ask") {
      const timeoutMs = c.options?.timeout === undefined ? null : parseDuration(c.options.timeout, `timeout of ask ${name}`);
      const { op, recorded } = next("ask", name, undefined);
      if (recorded) return fromHistory(recorded, serviceRunId, name);
      const res = await state.track(
        state.report({ type: "ask", opKey: op.opKey, seq: op.seq, name, serviceRunId, handler: c.handler, payload, maxQueued, timeoutMs }),
      );
      if (res.outcome === "failed") throw new ServiceCallError(serviceRunId, name, res.error);
      // The reply may commit while this code is still live: then it goes on without a replay.
      const outcome = await state.waitFor(op.opKey);
      if (outcome.status === "failed") throw new ServiceCallError(serviceRunId, name, outcome.error);
      return parse(outcome.result);
    }
    const { op, recorded } = next("send", name, undefined);
    if (recorded) return fromHistory(recorded, serviceRunId, name);
    const res = await state.track(
      state.report({ type: "send", opKey: op.opKey, seq: op.seq, name, messageKind: c.kind, serviceRunId, handler: c.handler, payload, maxQueued }),
    );
    if (res.outcome === "failed") throw new ServiceCallError(serviceRunId, name, res.error);
    return undefined;
  }

  async function status(definition: AnyServiceDefinition, serviceRunId: string): Promise<ServiceStatus> {
    enter("ref.status()");
    const { op, recorded } = next("service_status", definition.name, undefined);
    if (recorded) return (await fromHistory(recorded, serviceRunId, `${definition.name} status`)) as ServiceStatus;
    const res = await state.track(state.report({ type: "service_status", opKey: op.opKey, seq: op.seq, name: definition.name, serviceRunId }));
    return parse(res.outcome === "value" ? res.value : null) as ServiceStatus;
  }

  return {
    async connect(definition, keyInput, options) {
      enter("ctx.connect()");
      if (!isServiceDefinition(definition)) {
        throw new VilanoError("validation_failed", "ctx.connect() needs a service() definition as its first argument");
      }
      const key = computeKey(definition, keyInput);
      const keyInputJson = toJson(keyInput, `the key input of service "${definition.name}"`);
      const mustExist = options?.mustExist === true;
      const { op, recorded } = next("connect", definition.name, undefined);
      const serviceRunId = serviceInstanceId(project, definition.name, key);
      const cmd = { type: "connect" as const, opKey: op.opKey, seq: op.seq, name: definition.name, key, keyInput: keyInputJson, mustExist };
      if (recorded) {
        if (recorded.status === "failed") throw new ServiceCallError(serviceRunId, "connect", JSON.parse(recorded.error!) as FailureBody);
      } else if (mustExist) {
        // Only this form can fail, so only it waits for its commit.
        const res = await state.track(state.report(cmd));
        if (res.outcome === "failed") throw new ServiceCallError(serviceRunId, "connect", res.error);
      } else {
        // Create-or-get cannot fail and the id is known: recorded without waiting, like ctx.now().
        state.post(cmd);
      }
      return createRef(refShapeOf(definition), serviceRunId, {
        call: (c) => handed(call(definition, serviceRunId, c)),
        status: () => handed(status(definition, serviceRunId)),
        relate: (kind, relateOptions) => handed(relations.relate(kind, serviceRunId, relateOptions)),
      }) as never;
    },
  };
}
