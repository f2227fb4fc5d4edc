/**
 * Refs for scripts (`rt.connect`): sends and asks go straight to the kernel, without a run. An ask
 * waits in memory for its message to finish; its timeout stops the waiting, not the handling. An
 * ask's enqueue commits without waiting for the disk (the reply's commit makes it durable), so
 * anything told to the asker before a reply (a refusal, a timeout) waits for `kernel.syncLog()`.
 */
import { checkOptions, createRef, type RefInstance, type RefTransport } from "../engine/index.ts";
import type { Kernel } from "../kernel/index.ts";
import type { AnyServiceDefinition, ServiceRef, ServiceStatus } from "../sdk/index.ts";
import { durationAsGiven, parseDuration, ServiceCallError, toOptionalJson, VilanoError, type FailureBody } from "../shared/index.ts";
import type { ServiceInfo } from "./catalog.ts";

/** What a call from a script may be given: it is no op of a run, so it has no op `key`. */
const SCRIPT_CALL_OPTIONS = { ask: ["timeout"], send: [], signal: [] } as const;

function checkScriptOptions(member: string, options: unknown, known: readonly string[]): void {
  if (options !== undefined && typeof options === "object" && options !== null && Object.hasOwn(options, "key")) {
    throw new VilanoError("validation_failed", `${member}: the option "key" names an op of a run; a call from a script is not one (known here: ${known.length ? known.join(", ") : "none"})`);
  }
  checkOptions(member, options, known);
}

export function createExternalRef<D extends AnyServiceDefinition>(kernel: Kernel, definition: ServiceInfo, instance: RefInstance): ServiceRef<D> {
  const serviceRunId = instance.id;
  const transport: RefTransport = {
    async call(c) {
      checkScriptOptions(`ref.${c.kind}.${c.handler}()`, c.options, SCRIPT_CALL_OPTIONS[c.kind]);
      const name = `${definition.name}.${c.handler}`;
      const payload = toOptionalJson(c.payload, `the payload of ${name}`);
      const timeoutMs = c.kind === "ask" && c.options?.timeout !== undefined ? parseDuration(c.options.timeout, `timeout of ask ${name}`) : null;
      const sent = await kernel.enqueue({
        serviceRunId,
        kind: c.kind,
        handler: c.handler,
        payload,
        maxQueued: definition.maxQueued,
      });
      if (!sent.ok) {
        // An ask's enqueue did not wait for the disk: the refusal it recorded must be durable
        // before the caller hears of it.
        if (c.kind === "ask") await kernel.syncLog();
        throw new ServiceCallError(serviceRunId, name, sent.error);
      }
      if (c.kind !== "ask") return undefined;
      const signal = timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs);
      let message;
      try {
        message = await kernel.waitForMessage(sent.messageId, signal);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) {
          // A timed-out ask leaves its message to be handled: the message must be durable before
          // the caller hears so (its enqueue did not wait for the disk; usually a later commit has).
          await kernel.syncLog();
          throw new ServiceCallError(serviceRunId, name, {
            name: "AskTimeoutError",
            message: `no reply from ${serviceRunId} within ${durationAsGiven(c.options!.timeout!)}`,
            code: "ask_timeout",
            reason: "ask_timeout",
            family: "timeout",
            retryable: false,
          });
        }
        throw error;
      }
      if (message.status === "done") return message.reply === null ? undefined : JSON.parse(message.reply);
      throw new ServiceCallError(serviceRunId, name, JSON.parse(message.error!) as FailureBody);
    },
    async status() {
      const run = await kernel.getRun(serviceRunId);
      if (!run) throw new VilanoError("not_found", `service instance ${serviceRunId} does not exist`);
      return run.status as ServiceStatus;
    },
    relate(kind) {
      // A relationship has an owner that hears of the end: a run. A script has none.
      throw new VilanoError("wrong_context", `ref.${kind}() is only available inside a workflow or a service turn, not from a script`);
    },
  };
  return createRef(definition, instance, transport);
}
