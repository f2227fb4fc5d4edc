/**
 * `ctx.connect` and the refs it returns inside a run: connect, send, signal, ask and status are
 * durable ops, resolved from history on replay. An ask suspends the run until the reply commits.
 */
import { parseDuration, serviceInstanceId, ServiceCallError, toJson, toOptionalJson, VilanoError, type FailureBody, type HistoryOp } from "../shared/index.ts";
import { isServiceDefinition, type AnyServiceDefinition, type DurableContext, type ServiceStatus } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { computeKey, createRef, refShapeOf, type RefCall } from "./service-ref.ts";
import { handed } from "./step-scope.ts";
import { fromHistory, reportValue, reportWait } from "./durable-wait.ts";
import type { Relations } from "./relations.ts";
import { checkOptions } from "./options.ts";

/** What a call may be given inside a run; anything else is refused by name rather than dropped. */
const CALL_OPTIONS = { ask: ["timeout", "key"], send: ["key"], signal: ["key"] } as const;

export function createServiceCalls(
  project: string,
  next: NextOp,
  state: ActivationState,
  scheduler: ReplayScheduler,
  enter: (member: string) => void,
  relations: Relations,
): Pick<DurableContext, "connect"> {
  const callFailed = (serviceRunId: string, name: string) => (error: FailureBody) => new ServiceCallError(serviceRunId, name, error);
  const recordedOutcome = (recorded: HistoryOp, serviceRunId: string, name: string) =>
    fromHistory(state, scheduler, recorded, callFailed(serviceRunId, name), recorded.kind === "ask");

  async function call(definition: AnyServiceDefinition, serviceRunId: string, c: RefCall): Promise<unknown> {
    const member = `ref.${c.kind}.${c.handler}()`;
    enter(member);
    checkOptions(member, c.options, CALL_OPTIONS[c.kind]);
    const name = c.kind === "signal" ? `${definition.name}.signal:${c.handler}` : `${definition.name}.${c.handler}`;
    const payload = toOptionalJson(c.payload, `the payload of ${name}`);
    const maxQueued = definition.mailbox?.maxQueued ?? null;
    if (c.kind === "ask") {
      const timeoutMs = c.options?.timeout === undefined ? null : parseDuration(c.options.timeout, `timeout of ask ${name}`);
      const { op, recorded } = next("ask", name, c.options?.key);
      if (recorded) return recordedOutcome(recorded, serviceRunId, name);
      const ask = { type: "ask" as const, opKey: op.opKey, seq: op.seq, name, serviceRunId, handler: c.handler, payload, maxQueued, timeoutMs };
      return reportWait(state, ask, callFailed(serviceRunId, name));
    }
    const { op, recorded } = next("send", name, c.options?.key);
    if (recorded) return recordedOutcome(recorded, serviceRunId, name);
    const send = { type: "send" as const, opKey: op.opKey, seq: op.seq, name, messageKind: c.kind, serviceRunId, handler: c.handler, payload, maxQueued };
    await reportValue(state, send, callFailed(serviceRunId, name));
    return undefined;
  }

  async function status(definition: AnyServiceDefinition, serviceRunId: string): Promise<ServiceStatus> {
    enter("ref.status()");
    const { op, recorded } = next("service_status", definition.name, undefined);
    const failed = callFailed(serviceRunId, `${definition.name} status`);
    if (recorded) return (await recordedOutcome(recorded, serviceRunId, `${definition.name} status`)) as ServiceStatus;
    return (await reportValue(state, { type: "service_status", opKey: op.opKey, seq: op.seq, name: definition.name, serviceRunId }, failed)) as ServiceStatus;
  }

  return {
    async connect(definition, keyInput, options) {
      enter("ctx.connect()");
      if (!isServiceDefinition(definition)) {
        throw new VilanoError("validation_failed", "ctx.connect() needs a service() definition as its first argument");
      }
      const key = computeKey(definition, keyInput, next.checkName);
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
      return createRef(refShapeOf(definition), { id: serviceRunId, key }, {
        call: (c) => handed(call(definition, serviceRunId, c)),
        status: () => handed(status(definition, serviceRunId)),
        relate: (kind, relateOptions) => handed(relations.relate(kind, serviceRunId, relateOptions)),
      }) as never;
    },
  };
}
