/**
 * Typed refs to service instances. The ref only shapes calls; who carries them out differs: inside a
 * run each call is a durable op (service-calls.ts), from a script it goes straight to the kernel.
 */
import { VilanoError } from "../shared/index.ts";
import type { AnyServiceDefinition, AskOptions, ServiceRef, ServiceStatus } from "../sdk/index.ts";

export type RefCall =
  | { kind: "send" | "signal"; handler: string; payload: unknown }
  | { kind: "ask"; handler: string; payload: unknown; options: AskOptions | undefined };

export interface RefTransport {
  call(call: RefCall): Promise<unknown>;
  status(): Promise<ServiceStatus>;
}

const GROUPS = { send: "onSend", ask: "onAsk", signal: "onSignal" } as const;
// Names that inspectors and promise machinery probe on any object; answering undefined is harmless.
const PROBES = new Set(["then", "toJSON", "constructor", "inspect", "asymmetricMatch", "$$typeof", "nodeType"]);

function handlerTable(definition: AnyServiceDefinition, kind: keyof typeof GROUPS, invoke: (handler: string) => unknown): object {
  const handlers = definition[GROUPS[kind]] as Record<string, unknown>;
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== "string") return undefined;
      // A handler may be named like a probe (`inspect`); only `then` stays reserved, or refs would be thenable.
      if (prop !== "then" && Object.hasOwn(handlers, prop)) return invoke(prop);
      if (PROBES.has(prop)) return undefined;
      const known = Object.keys(handlers);
      throw new VilanoError(
        "validation_failed",
        `service "${definition.name}" has no ${GROUPS[kind]} handler "${prop}" (it has: ${known.length ? known.join(", ") : "none"})`,
      );
    },
    has: (_target, prop) => typeof prop === "string" && Object.hasOwn(handlers, prop),
    ownKeys: () => Object.keys(handlers),
    getOwnPropertyDescriptor: (_target, prop) =>
      typeof prop === "string" && Object.hasOwn(handlers, prop) ? { enumerable: true, configurable: true } : undefined,
  });
}

export function createRef<D extends AnyServiceDefinition>(definition: D, serviceRunId: string, transport: RefTransport): ServiceRef<D> {
  return Object.freeze({
    id: serviceRunId,
    send: handlerTable(definition, "send", (handler) => (payload: unknown) => transport.call({ kind: "send", handler, payload }).then(() => undefined)),
    signal: handlerTable(definition, "signal", (handler) => (payload: unknown) => transport.call({ kind: "signal", handler, payload }).then(() => undefined)),
    ask: handlerTable(definition, "ask", (handler) => (payload: unknown, options?: AskOptions) => transport.call({ kind: "ask", handler, payload, options })),
    status: () => transport.status(),
  }) as unknown as ServiceRef<D>;
}

/** Computes an instance key with the definition's pure `key` function, checking what it returns. */
export function computeKey(definition: AnyServiceDefinition, keyInput: unknown): string {
  const key: unknown = definition.key(keyInput);
  if (typeof key !== "string" || key === "") {
    throw new VilanoError("validation_failed", `service "${definition.name}": key() must return a non-empty string, got ${JSON.stringify(key)}`);
  }
  return key;
}
