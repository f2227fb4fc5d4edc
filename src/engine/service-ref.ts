/**
 * Typed refs to service instances. The ref only shapes calls; who carries them out differs: inside a
 * run each call is a durable op (service-calls.ts), from a script it goes straight to the kernel.
 */
import { checkNameLength, VilanoError } from "../shared/index.ts";
import type { AnyServiceDefinition, AskOptions, LinkOptions, SendOptions, ServiceRef, ServiceStatus } from "../sdk/index.ts";

export type RefCall =
  | { kind: "send" | "signal"; handler: string; payload: unknown; options: SendOptions | undefined }
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
/** What calling the table as a function needs of it (`byName.call(…)`, `.bind`, `.apply`). */
const FUNCTION_MEMBERS = new Set(["call", "apply", "bind", "name", "length"]);

type Invoke = (handler: string, payload: unknown, options: unknown) => unknown;

/**
 * `ref.ask` (and `send`, `signal`): a function — `ref.ask("status", payload, options)` — whose
 * properties are the handlers — `ref.ask.status(payload, options)`. Both forms check the name.
 */
function handlerTable(shape: RefShape, kind: keyof typeof GROUPS, invoke: Invoke): object {
  const names = new Set(shape.handlers[kind]);
  const noSuchHandler = (name: unknown) => {
    const known = [...names];
    return new VilanoError(
      "validation_failed",
      `service "${shape.name}" has no ${GROUPS[kind]} handler ${typeof name === "string" ? `"${name}"` : JSON.stringify(name) ?? String(name)} (it has: ${known.length ? known.join(", ") : "none"})`,
      { retryable: false },
    );
  };
  // An arrow function: it has no non-configurable own property (`prototype`) that the traps below
  // would have to report as it is.
  const byName = (handler: unknown, payload?: unknown, options?: unknown) => {
    if (typeof handler !== "string" || handler === "then" || !names.has(handler)) throw noSuchHandler(handler);
    return invoke(handler, payload, options);
  };
  return new Proxy(byName, {
    get(target, prop) {
      if (typeof prop !== "string") return undefined;
      // A handler may be named like a probe (`inspect`) or a function member (`call`); only `then`
      // stays reserved, or refs would be thenable.
      if (prop !== "then" && names.has(prop)) return (payload?: unknown, options?: unknown) => invoke(prop, payload, options);
      if (PROBES.has(prop)) return undefined;
      // The table is also a function (`ref.ask("status", p)`): its own members work, but nothing
      // inherited (`__proto__`, `isPrototypeOf`, `toString`) passes for a handler.
      if (FUNCTION_MEMBERS.has(prop)) return Reflect.get(target, prop) as unknown;
      throw noSuchHandler(prop);
    },
    has: (_target, prop) => typeof prop === "string" && names.has(prop),
    ownKeys: () => [...names],
    getOwnPropertyDescriptor: (_target, prop) => (typeof prop === "string" && names.has(prop) ? { enumerable: true, configurable: true } : undefined),
  });
}

/** The instance a ref addresses: its run id and the key its definition computed. */
export interface RefInstance {
  id: string;
  key: string;
}

export function createRef<D extends AnyServiceDefinition>(shape: RefShape, instance: RefInstance, transport: RefTransport): ServiceRef<D> {
  const sending = (kind: "send" | "signal"): Invoke => (handler, payload, options) =>
    transport.call({ kind, handler, payload, options: options as SendOptions | undefined }).then(() => undefined);
  return Object.freeze({
    id: instance.id,
    definitionName: shape.name,
    serviceKey: instance.key,
    send: handlerTable(shape, "send", sending("send")),
    signal: handlerTable(shape, "signal", sending("signal")),
    ask: handlerTable(shape, "ask", (handler, payload, options) => transport.call({ kind: "ask", handler, payload, options: options as AskOptions | undefined })),
    status: () => transport.status(),
    monitor: (options?: LinkOptions) => transport.relate("monitor", options),
    link: (options?: LinkOptions) => transport.relate("link", options),
  }) as unknown as ServiceRef<D>;
}

/**
 * Computes an instance key with the definition's pure `key` function, checking what it returns.
 * `checkName` applies the name limit; `ctx.connect` passes its op's, which skips recorded ops.
 */
export function computeKey(definition: AnyServiceDefinition, keyInput: unknown, checkName: (what: string, text: string) => void = checkNameLength): string {
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
  checkName(`the key that service "${definition.name}"'s key() returned`, key);
  return key;
}
