/**
 * Typed refs to service instances. The ref only shapes calls; who carries them out differs: inside a
 * run each call is a durable op (service-calls.ts), from a script it goes straight to the kernel.
 */
import { VilanoError } from "../shared/index.ts";
import type { AnyServiceDefinition, AskOptions, LinkOptions, ServiceRef, ServiceStatus } from "../sdk/index.ts";

export type RefCall =
  | { kind: "send" | "signal"; handler: string; payload: unknown }
  | { kind: "ask"; handler: string; payload: unknown; options: AskOptions | undefined };

export interface RefTransport {
  call(call: RefCall): Promise<unknown>;
  status(): Promise<ServiceStatus>;
  /** `ref.monitor()` / `ref.link()`: inside a run, a relationship of the run to the instance. */
  relate(kind: "monitor" | "link", options?: LinkOptions): Promise<void>;
}

const GROUPS = { send: "onSend", ask: "onAsk", signal: "onSignal" } as const;

/**
 * What a ref needs to know of a service: its name and handler names. Plain data, so a process that
 * never imports the service's code (the daemon, with user code in workers) can still shape refs.
 */
export interface RefShape {
  name: string;
  handlers: { send: readonly string[]; ask: readonly string[]; signal: readonly string[] };
}

export function refShapeOf(definition: AnyServiceDefinition): RefShape {
  return {
    name: definition.name,
    handlers: { send: Object.keys(definition.onSend), ask: Object.keys(definition.onAsk), signal: Object.keys(definition.onSignal) },
  };
}
// Names that inspectors and promise machinery probe on any object; answering undefined is harmless.
const PROBES = new Set(["then", "toJSON", "constructor", "inspect", "asymmetricMatch", "$$typeof", "nodeType"]);

function handlerTable(shape: RefShape, kind: keyof typeof GROUPS, invoke: (handler: string) => unknown): object {
  const names = new Set(shape.handlers[kind]);
  return new Proxy(Object.create(null) as object, {
    get(_target, prop) {
      if (typeof prop !== "string") return undefined;
      // A handler may be named like a probe (`inspect`); only `then` stays reserved, or refs would be thenable.
      if (prop !== "then" && names.has(prop)) return invoke(prop);
      if (PROBES.has(prop)) return undefined;
      const known = [...names];
      throw new VilanoError(
        "validation_failed",
        `service "${shape.name}" has no ${GROUPS[kind]} handler "${prop}" (it has: ${known.length ? known.join(", ") : "none"})`,
      );
    },
    has: (_target, prop) => typeof prop === "string" && names.has(prop),
    ownKeys: () => [...names],
    getOwnPropertyDescriptor: (_target, prop) => (typeof prop === "string" && names.has(prop) ? { enumerable: true, configurable: true } : undefined),
  });
}

export function createRef<D extends AnyServiceDefinition>(shape: RefShape, serviceRunId: string, transport: RefTransport): ServiceRef<D> {
  return Object.freeze({
    id: serviceRunId,
    send: handlerTable(shape, "send", (handler) => (payload: unknown) => transport.call({ kind: "send", handler, payload }).then(() => undefined)),
    signal: handlerTable(shape, "signal", (handler) => (payload: unknown) => transport.call({ kind: "signal", handler, payload }).then(() => undefined)),
    ask: handlerTable(shape, "ask", (handler) => (payload: unknown, options?: AskOptions) => transport.call({ kind: "ask", handler, payload, options })),
    status: () => transport.status(),
    monitor: (options?: LinkOptions) => transport.relate("monitor", options),
    link: (options?: LinkOptions) => transport.relate("link", options),
  }) as unknown as ServiceRef<D>;
}

/** Computes an instance key with the definition's pure `key` function, checking what it returns. */
export function computeKey(definition: AnyServiceDefinition, keyInput: unknown): string {
  let key: unknown;
  try {
    key = definition.key(keyInput);
  } catch (error) {
    throw new VilanoError(
      "validation_failed",
      `service "${definition.name}": key() threw for the key input ${JSON.stringify(keyInput) ?? "undefined"}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof key !== "string" || key === "") {
    throw new VilanoError("validation_failed", `service "${definition.name}": key() must return a non-empty string, got ${JSON.stringify(key)}`);
  }
  return key;
}
