/**
 * `service()`: defines a durable keyed agent. Each key gets one instance with durable state and an
 * inbox; messages (sends, asks, signals) are handled one turn at a time, in order. The definition
 * is a plain object tagged `kind: "service"`, so it works across copies of the SDK.
 */
import { isValidName, resolveRetryPolicy, VilanoError, type Duration, type RetryOptions } from "../shared/index.ts";
import type { ServiceContext } from "./context.ts";
import { refuseUnknownOptions } from "./options.ts";

/** What a handler returns: state is replaced only when `state` is present; asks need `reply`. */
export interface HandlerResult<S, R = unknown> {
  state?: S;
  reply?: R;
  /** Stop the instance after this turn: its backlog fails and new mail is rejected. */
  stop?: boolean;
}

// `any` in the payload position lets each handler declare its own payload type, which refs then check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = any;

// No bare `void` in the return union: a function returning anything is assignable to one returning
// void, which would let a handler return a state of the wrong shape unnoticed.
export type SendHandler<S> = (
  payload: Payload,
  state: S,
  ctx: ServiceContext,
) => Promise<HandlerResult<S, never> | void> | HandlerResult<S, never> | undefined;
/** An ask handler must reply. */
export type AskResult<S, R = unknown> = HandlerResult<S, R> & { reply: R };
export type AskHandler<S> = (payload: Payload, state: S, ctx: ServiceContext) => Promise<AskResult<S>> | AskResult<S>;

/**
 * The constraint of a handler map. It must not mention the state type: a constraint that does
 * makes TypeScript fix the state type early (to unknown) when a handler takes no parameters.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HandlerMap = Record<string, (...args: any[]) => any>;

export interface MailboxOptions {
  /** New messages are rejected with `service_overloaded` while this many are queued. */
  maxQueued: number;
  overload?: "reject_new";
}

export interface ServiceOptions<
  KI,
  S,
  Sends extends HandlerMap,
  Asks extends HandlerMap,
  Signals extends HandlerMap,
> {
  /** Unique within a project. */
  name: string;
  /** The instance key for a key input; must be pure. */
  key: (input: KI) => string;
  /** Runs inside the first turn of an instance that has no state, and commits with it. */
  init?: (input: KI, ctx: ServiceContext) => S | Promise<S>;
  // The mapped half gives each handler its contextual `state: S`; the generic half keeps its payload type.
  // NoInfer: the state type comes from `init` (or the handlers' state parameter), never from what a
  // handler returns, so a handler returning the wrong shape is an error instead of widening it.
  onSend?: Sends & { [K in keyof Sends]: SendHandler<NoInfer<S>> };
  onAsk?: Asks & { [K in keyof Asks]: AskHandler<NoInfer<S>> };
  onSignal?: Signals & { [K in keyof Signals]: SendHandler<NoInfer<S>> };
  /** Retry policy for failed turns. */
  retry?: RetryOptions;
  mailbox?: MailboxOptions;
  discovery?: { singletonRole?: string };
}

export interface ServiceDefinition<
  KI = unknown,
  S = unknown,
  Sends extends HandlerMap = HandlerMap,
  Asks extends HandlerMap = HandlerMap,
  Signals extends HandlerMap = HandlerMap,
> {
  readonly kind: "service";
  readonly name: string;
  readonly key: (input: KI) => string;
  readonly init?: (input: KI, ctx: ServiceContext) => S | Promise<S>;
  readonly onSend: Sends;
  readonly onAsk: Asks;
  readonly onSignal: Signals;
  readonly retry?: RetryOptions;
  readonly mailbox?: MailboxOptions;
  readonly discovery?: { singletonRole?: string };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyServiceDefinition = ServiceDefinition<any, any, any, any, any>;

const SERVICE_OPTIONS = ["name", "key", "init", "onSend", "onAsk", "onSignal", "retry", "mailbox", "discovery"] as const;

/**
 * Defines a service.
 * @example
 * export const counter = service({
 *   name: "counter",
 *   key: (input: { id: string }) => input.id,
 *   init: async () => ({ count: 0 }),
 *   onSend: { add: async (p: { by: number }, state) => ({ state: { count: state.count + p.by } }) },
 *   onAsk: { get: async (_p: void, state) => ({ reply: state.count }) },
 * });
 */
export function service<
  KI,
  S,
  Sends extends HandlerMap = {},
  Asks extends HandlerMap = {},
  Signals extends HandlerMap = {},
>(options: ServiceOptions<KI, S, Sends, Asks, Signals>): ServiceDefinition<KI, S, Sends, Asks, Signals> {
  if (!options || typeof options !== "object") throw new VilanoError("validation_failed", "service() needs an options object");
  const { name } = options;
  if (typeof name !== "string" || !isValidName(name)) {
    throw new VilanoError(
      "validation_failed",
      `invalid service name ${JSON.stringify(name)}: use letters, digits, "_", "." or "-", starting with a letter or "_"`,
    );
  }
  if (typeof options.key !== "function") throw new VilanoError("validation_failed", `service "${name}" needs a key function`);
  if (options.init !== undefined && typeof options.init !== "function") {
    throw new VilanoError("validation_failed", `service "${name}": init must be a function`);
  }
  const handlers = (group: string, map: unknown) => {
    if (map === undefined) return {};
    if (typeof map !== "object" || map === null) throw new VilanoError("validation_failed", `service "${name}": ${group} must be an object of handlers`);
    for (const [handler, fn] of Object.entries(map)) {
      if (typeof fn !== "function") throw new VilanoError("validation_failed", `service "${name}": ${group}.${handler} must be a function`);
      if (handler === "then") throw new VilanoError("validation_failed", `service "${name}": a handler may not be named "then" (refs would look like promises)`);
    }
    return Object.freeze({ ...map });
  };
  if (options.retry !== undefined) {
    try {
      resolveRetryPolicy(options.retry);
    } catch (error) {
      throw new VilanoError("validation_failed", `service "${name}": ${(error as Error).message}`);
    }
  }
  refuseUnknownOptions(`service "${name}"`, options, SERVICE_OPTIONS);
  const mailbox = options.mailbox;
  if (mailbox !== undefined) {
    if (typeof mailbox !== "object" || mailbox === null) throw new VilanoError("validation_failed", `service "${name}": mailbox must be an object { maxQueued, overload? }`);
    refuseUnknownOptions(`service "${name}" mailbox`, mailbox, ["maxQueued", "overload"]);
    if (typeof mailbox.maxQueued !== "number" || !Number.isInteger(mailbox.maxQueued) || mailbox.maxQueued < 1) {
      throw new VilanoError("validation_failed", `service "${name}": mailbox.maxQueued must be a whole number >= 1, got ${JSON.stringify(mailbox.maxQueued)}`);
    }
    if (mailbox.overload !== undefined && mailbox.overload !== "reject_new") {
      throw new VilanoError("validation_failed", `service "${name}": mailbox.overload must be "reject_new" (the only policy), got ${JSON.stringify(mailbox.overload)}`);
    }
  }
  const discovery = options.discovery;
  if (discovery !== undefined) {
    if (typeof discovery !== "object" || discovery === null) throw new VilanoError("validation_failed", `service "${name}": discovery must be an object { singletonRole? }`);
    refuseUnknownOptions(`service "${name}" discovery`, discovery, ["singletonRole"]);
    if (discovery.singletonRole !== undefined && (typeof discovery.singletonRole !== "string" || discovery.singletonRole.trim() === "")) {
      throw new VilanoError("validation_failed", `service "${name}": discovery.singletonRole must be a non-empty string, got ${JSON.stringify(discovery.singletonRole)}`);
    }
  }
  const definition = {
    kind: "service" as const,
    name,
    key: options.key,
    onSend: handlers("onSend", options.onSend) as Sends,
    onAsk: handlers("onAsk", options.onAsk) as Asks,
    onSignal: handlers("onSignal", options.onSignal) as Signals,
    ...(options.init ? { init: options.init } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
    ...(mailbox ? { mailbox } : {}),
    ...(options.discovery ? { discovery: options.discovery } : {}),
  };
  return Object.freeze(definition);
}

/** Whether a value looks like a service definition (by shape, not class). */
export function isServiceDefinition(value: unknown): value is AnyServiceDefinition {
  if (!value || typeof value !== "object") return false;
  const v = value as { kind?: unknown; name?: unknown; key?: unknown };
  return v.kind === "service" && typeof v.name === "string" && typeof v.key === "function";
}

export interface AskOptions {
  /** Fail with `ask_timeout` when no reply arrives within this duration. */
  timeout?: Duration;
  /** Inside a run: the op key to use instead of the implicit `ask:<service>.<handler>:<n>`. */
  key?: string;
}

/** Options of a send or a signal to a service instance. */
export interface SendOptions {
  /** Inside a run: the op key to use instead of the implicit `send:<service>.<handler>:<n>`. */
  key?: string;
}

/** The status of a service instance. */
export type ServiceStatus = "idle" | "pending" | "active" | "waiting" | "stopped";

// A handler that declares no payload parameter takes none (`ref.ask.last()`).
type PayloadOf<H> = H extends (...args: infer A) => unknown ? (A extends [] ? void : A[0]) : never;
type ReplyOf<H> = H extends (...args: never[]) => infer R ? (Awaited<R> extends { reply?: infer Y } ? Y : never) : never;
/** What follows the handler's name in `ref.ask("status", payload, options)`: the payload may be left out when it is void. */
type CallArgs<H, O> = [PayloadOf<H>] extends [void] ? [payload?: PayloadOf<H>, options?: O] : [payload: PayloadOf<H>, options?: O];
type HandlerName<M> = Extract<keyof M, string>;

/** `ref.send.hint(payload)`, or by name: `ref.send("hint", payload)`. Signals have the same two forms. */
export type SendMembers<M> = { readonly [K in keyof M]: (payload: PayloadOf<M[K]>, options?: SendOptions) => Promise<void> } &
  (<K extends HandlerName<M>>(handler: K, ...args: CallArgs<M[K], SendOptions>) => Promise<void>);

/** `ref.ask.status(payload, options)`, or by name: `ref.ask("status", payload, options)`; typed by the handler's reply. */
export type AskMembers<M> = {
  readonly [K in keyof M]: (payload: PayloadOf<M[K]>, options?: AskOptions) => Promise<ReplyOf<M[K]>>;
} & (<K extends HandlerName<M>>(handler: K, ...args: CallArgs<M[K], AskOptions>) => Promise<ReplyOf<M[K]>>);

/**
 * A typed reference to a service instance, from `ctx.connect`, `ctx.lookup`, `ctx.lookupSingleton`
 * or `rt.connect`. Each call has two forms, typed alike: by member and by the handler's name.
 * @example
 * const ref = await ctx.connect(reviewer, { repoId: "repo_123" });
 * await ref.send.hint({ note: "Ship 0.1" });           // or ref.send("hint", { note: "Ship 0.1" })
 * const status = await ref.ask("status", undefined, { timeout: "30s" }); // or ref.ask.status(undefined, { timeout: "30s" })
 * ctx.log("asked", { service: ref.definitionName, key: ref.serviceKey });
 */
export interface ServiceRef<D extends AnyServiceDefinition> {
  /** The instance's run id. */
  readonly id: string;
  /** The service's name (its definition's `name`). */
  readonly definitionName: string;
  /** The instance's key: what the definition's `key()` computed from the key input. */
  readonly serviceKey: string;
  readonly send: SendMembers<D["onSend"]>;
  readonly ask: AskMembers<D["onAsk"]>;
  readonly signal: SendMembers<D["onSignal"]>;
  status(): Promise<ServiceStatus>;
  /** Inside a run: `ctx.monitor(ref)`. */
  monitor(options?: { key?: string }): Promise<void>;
  /** Inside a run: `ctx.link(ref, options)`. */
  link(options?: { key?: string; propagate?: "abnormal" | "all" }): Promise<void>;
}

export interface ConnectOptions {
  /** Fail with `not_found` instead of creating the instance. */
  mustExist?: boolean;
}

/** The key input type of a service definition. */
export type ServiceKeyInput<D> = D extends { key: (input: infer KI) => string } ? KI : never;
