/**
 * The types of `ctx` as workflow code sees it. The engine implements them; user code only sees
 * these shapes, so they are the public contract of the authoring SDK.
 */
import type { Backoff, Duration, ExitEvent, MailboxView, RetryFamily, RetryOptions, RunStatus } from "../shared/index.ts";
import type { AnyServiceDefinition, ConnectOptions, ServiceKeyInput, ServiceRef } from "./service.ts";
import type { AnyWorkflowDefinition, WorkflowInput, WorkflowOutput } from "./workflow.ts";

/** Handed to a step's function: cooperative control for long or cancellable work. */
export interface StepControl {
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the step's timeout passes or the run is cancelled. */
  readonly signal: AbortSignal;
  /** Throws when the signal is aborted; call it between chunks of work. */
  checkCancelled(): void;
  /** Lets the event loop run (timers, I/O, the timeout itself), then checks for cancellation. */
  yield(): Promise<void>;
}

export interface StepOptions {
  /** Op key to use instead of the implicit `step:<name>:<n>`. */
  key?: string;
  /** The step fails with family `timeout` when an attempt runs longer than this. */
  timeout?: Duration;
  /** Retry policy for failed attempts; without one a failed step is not retried. */
  retry?: RetryOptions;
  /** Shorthand for `retry: { retries }` (with `backoff` and `on`); give the policy one way or the other. */
  retries?: number;
  /** With `retries`: the same as `retry.backoff`. */
  backoff?: Backoff;
  /** With `retries`: the same as `retry.on`. */
  on?: readonly RetryFamily[];
}

export interface SleepOptions {
  key?: string;
}

export interface WaitForSignalOptions {
  key?: string;
  /** Throw `SignalTimeoutError` when no signal arrives within this duration. */
  timeout?: Duration;
}

export type LogFields = Record<string, unknown>;

/**
 * A subprocess as a durable op (`ctx.exec`). argv only: `cmd` and `args` are never given to a shell,
 * so `$(…)`, `;` and quotes stay literal.
 */
export interface ExecSpec<T = ExecResult> {
  /** The op's name in history (`exec:<name>:<n>`). */
  name: string;
  /** Op key to use instead of the implicit one. */
  key?: string;
  /** The program: a path, or a name looked up in PATH. */
  cmd: string;
  args?: readonly string[];
  /** Working directory, relative to the activation's workspace (`ctx.workspace`) and inside it (default: the workspace). */
  cwd?: string;
  /**
   * Variables merged over the clean base environment. Only their names are recorded, never the
   * values. The runtime adds `VILANO_EXEC_ATTEMPT` (1-based), `VILANO_RUN_ID` and `VILANO_OP_KEY`,
   * which `env` may not set.
   */
  env?: Record<string, string>;
  /** Written to the process's standard input. */
  stdin?: string;
  /** Past this, the whole process tree is killed and the attempt fails with family `timeout`. */
  timeout?: Duration;
  /** Retry policy; families `process_exit`, `process_spawn` and `timeout` can be chosen with `on`. */
  retry?: RetryOptions;
  /** Shorthand for `retry: { retries }` (with `backoff` and `on`); give the policy one way or the other. */
  retries?: number;
  /** With `retries`: the same as `retry.backoff`. */
  backoff?: Backoff;
  /** With `retries`: the same as `retry.on`. */
  on?: readonly RetryFamily[];
  capture?: {
    /** Keep standard output (default true). */
    stdout?: boolean;
    /** Keep standard error (default true). */
    stderr?: boolean;
    /** Files (relative to `cwd`) kept after it exits. */
    artifacts?: readonly string[];
    /** Largest capture kept per stream and per artifact, in bytes (default 262144); beyond it a mark says how much was cut. */
    maxBytes?: number;
  };
  /** Turns standard output into the op's result (recorded instead of the raw result). */
  parse?: (stdout: string) => T;
}

export interface ExecArtifact {
  /** As declared in `capture.artifacts`. */
  path: string;
  /** Its size when it was read. */
  bytes: number;
  /** True when only the first `maxBytes` were kept. */
  truncated: boolean;
  /** Where the kept copy is, relative to the runtime home (daemon only). */
  stored: string;
}

/** What `ctx.exec` returns without `parse`. A non-zero exit is a failure, so `exitCode` is 0 here. */
export interface ExecResult {
  exitCode: number;
  signalCode: string | null;
  stdout: string;
  stderr: string;
  artifacts: ExecArtifact[];
}

export interface SpawnOptions {
  /**
   * Names the child: spawning with the same key again (in this run or a replay of it) gives the
   * same child. Without a key, each spawn call makes its own child.
   */
  key?: string;
  /** `"reuse"` (default): one child per key. `"fresh"`: a new child on each call, still deterministic on replay. */
  policy?: "reuse" | "fresh";
}

/** A child workflow run started with `ctx.spawn`. Every method is a durable op of the parent. */
export interface ChildHandle<W extends AnyWorkflowDefinition = AnyWorkflowDefinition> {
  /** The child's run id: derived from the parent's id and the child's key (or the spawn's op key). */
  readonly id: string;
  /** The child's workflow name. */
  readonly workflow: string;
  /**
   * Waits (durably) for the child to end and returns its output. Throws `ChildFailedError` when
   * it failed or was cancelled: `cause` is the child's error body, `childRunId` names it.
   */
  result(): Promise<WorkflowOutput<W>>;
  /** The child's status now (recorded, so a replay sees the same answer). */
  status(): Promise<RunStatus>;
  /** Sends a run signal to the child (recorded once). */
  signal(name: string, payload?: unknown): Promise<void>;
  /** `ctx.monitor(child)`: this run gets an exit event when the child ends. */
  monitor(options?: MonitorOptions): Promise<void>;
  /** `ctx.link(child)`: an abnormal end of either side ends the other (unless it traps exits). */
  link(options?: LinkOptions): Promise<void>;
}

export interface SuperviseOptions {
  /** Which members restart when one ends abnormally (default `one_for_one`). */
  strategy?: "one_for_one" | "one_for_all" | "rest_for_one";
  /** Restarts allowed within `window` (default 3); one more fails the owner with `supervision_exhausted`. */
  maxRestarts?: number;
  /** Default `"1m"`. */
  window?: Duration;
  onExhausted?: "fail_self";
  /** Op key to use instead of the implicit `supervise:<n>`. */
  key?: string;
}

/** A member of a supervision group, as `group.members()` lists it. */
export interface SupervisedMember {
  key: string;
  /** The member's workflow name (also as `definitionName`). */
  workflow: string;
  /** The member's workflow name, as the reference SDK calls it. */
  definitionName: string;
  /** Its current run (a restart gives it a new one). */
  runId: string;
  /** The same as `runId`, as the reference SDK calls it. */
  currentRunId: string;
  restarts: number;
  /** How many times it was restarted so far (the same as `restarts`): 0 for its first run. */
  generation: number;
  status: RunStatus;
  /** The input it was spawned with (every restart gets the same); absent when it was spawned without one. */
  input?: unknown;
}

/** A supervised child: its `result()` waits across restarts for the run that completes. */
export interface SupervisedHandle<W extends AnyWorkflowDefinition = AnyWorkflowDefinition> {
  readonly key: string;
  readonly workflow: string;
  result(): Promise<WorkflowOutput<W>>;
  /** The id of the member's current run (recorded). */
  currentRunId(): Promise<string>;
}

export interface SupervisionGroup {
  /** Starts a member (a child run the group restarts); the same key gives the same member. */
  spawn<W extends AnyWorkflowDefinition>(workflow: W, input: WorkflowInput<W>, options?: { key?: string }): SupervisedHandle<W>;
  /** The members with their current runs (recorded). */
  members(): Promise<SupervisedMember[]>;
}

export interface PublishOptions {
  /** Op key to use instead of the implicit `publish:<topic>:<n>`; one publish per op key, ever. */
  key?: string;
}

/** What a publish reached: instances `matched` (subscribed, not stopped), of which `enqueued` took it and `rejected` were full. */
export interface PublishResult {
  publishId: string;
  topic: string;
  matched: number;
  enqueued: number;
  rejected: number;
}

export interface SubscribeOptions {
  /** The onSignal handler deliveries go to (default: the topic's name). */
  signal?: string;
  key?: string;
}

/** What `ctx.subscribe` says: the topic, and the onSignal handler its publishes go to. */
export interface Subscription {
  topic: string;
  signal: string;
}

/** What `ctx.unsubscribe` says: the topic, and the handler whose subscription ends (absent: every one). */
export interface Unsubscription {
  topic: string;
  signal?: string;
}

/**
 * What a subscribed instance's onSignal handler receives for each publish: the published `payload`
 * with the topic, the publish's id (one per publish op) and the run that published it.
 *
 * @example
 * onSignal: { deployed: async (d: Published<{ version: string }>, state) => ({ state: [...state, d.payload.version] }) }
 */
export interface Published<T = unknown> {
  topic: string;
  payload: T;
  publishId: string;
  publisherRunId: string;
}

/** What `ctx.monitor` and `ctx.link` relate to: a run id, a child handle or a service ref. */
export type RelationTarget = string | { readonly id: string };

export interface MonitorOptions {
  /** Op key to use instead of the implicit `monitor:<target>:<n>`. */
  key?: string;
}

export interface LinkOptions {
  key?: string;
  /** `"abnormal"` (default): only failures and cancellations propagate. `"all"`: a normal end is reported too, as an exit event. */
  propagate?: "abnormal" | "all";
}

export interface NextExitOptions {
  key?: string;
  /** Throw `exit_timeout` when no exit event arrives within this duration. */
  timeout?: Duration;
}

/** The durable context shared by workflow runs and service turns. */
export interface DurableContext {
  /** Id of this run (workflow run or service instance). */
  readonly runId: string;
  /**
   * This activation's own working directory (absolute): `ctx.exec`'s default `cwd`, made when first
   * asked for and removed when the activation ends (unless the project keeps workspaces or shares
   * one). The next activation of the run gets another, so keep files there only for this activation,
   * and never record the path itself. In a pooled worker `process.cwd()` is shared: use this instead.
   * @example await ctx.step("write", () => Bun.write(`${ctx.workspace}/notes.txt`, "draft"));
   */
  readonly workspace: string;
  /**
   * Service turns: the attempt of the message being handled (1-based; grows on retry, defer and
   * lost lease). Workflows: always 1.
   */
  readonly turnAttempt: number;
  /**
   * Runs `fn` once and records its result; on replay the recorded result is returned without
   * calling `fn`. The result must be plain JSON.
   * @example const user = await ctx.step("load-user", () => db.users.get(id));
   */
  step<T>(name: string, fn: (step: StepControl) => T | Promise<T>, options?: StepOptions): Promise<T>;
  /**
   * A durable timer: survives restarts of everything.
   * @example await ctx.sleep("5m");
   */
  sleep(duration: Duration, options?: SleepOptions): Promise<void>;
  /**
   * Waits durably for a run signal and returns its payload. A signal sent before the wait is
   * buffered and consumed at once.
   * @example const approval = await ctx.waitForSignal<{ by: string }>("approved", { timeout: "1d" });
   */
  waitForSignal<T = unknown>(name: string, options?: WaitForSignalOptions): Promise<T>;
  /**
   * Runs a subprocess as a durable op: recorded once, retried as a process boundary (families
   * `process_exit`, `process_spawn`, `timeout`), killed with its whole tree on timeout or cancel.
   * @example const { stdout } = await ctx.exec({ name: "git-rev", cmd: "git", args: ["rev-parse", "HEAD"], timeout: "10s" });
   */
  exec<T>(spec: ExecSpec<T> & { parse: (stdout: string) => T }): Promise<T>;
  exec(spec: ExecSpec): Promise<ExecResult>;
  /** A log line recorded in the run's history; printed live, silent on replay. */
  log(message: string, fields?: LogFields): void;
  /** The current time in ms, recorded on first call and replayed afterwards. */
  now(): number;
  /** A random number in [0, 1), recorded on first call and replayed afterwards. */
  random(): number;
  /**
   * Creates (or finds) the service instance for `service.key(keyInput)` and returns a typed ref.
   * @example
   * const ref = await ctx.connect(reviewer, { repoId: "repo_123" });
   * await ref.send.hint({ note: "Ship 0.1" });
   * const status = await ref.ask.status();
   */
  connect<D extends AnyServiceDefinition>(service: D, keyInput: ServiceKeyInput<D>, options?: ConnectOptions): Promise<ServiceRef<D>>;
  /**
   * Like `connect` with `mustExist: true`: a ref to the existing instance, or a `not_found` failure.
   * @example const ref = await ctx.lookup(reviewer, { repoId: "repo_123" });
   */
  lookup<D extends AnyServiceDefinition>(service: D, keyInput: ServiceKeyInput<D>): Promise<ServiceRef<D>>;
  /**
   * Starts a child workflow run and returns its handle at once (no await needed).
   * @example
   * const children = ids.map((id) => ctx.spawn(fetchOne, { id }, { key: `fetch:${id}` }));
   * const pages = await Promise.all(children.map((c) => c.result()));
   */
  spawn<W extends AnyWorkflowDefinition>(workflow: W, input: WorkflowInput<W>, options?: SpawnOptions): ChildHandle<W>;
  /**
   * When `target` (a child, the parent, or a service instance of the project) ends, this run gets
   * an exit event (`ctx.nextExit()`). A target that has already ended fires at once.
   */
  monitor(target: RelationTarget, options?: MonitorOptions): Promise<void>;
  /**
   * Links this run and `target` both ways: when either ends abnormally, the other is cancelled
   * (a workflow) or stopped (a service) with reason `linked_exit` — unless it traps exits.
   */
  link(target: RelationTarget, options?: LinkOptions): Promise<void>;
  /** Linked abnormal ends arrive as exit events instead of ending this run. */
  trapExit(enabled?: boolean): void;
  /**
   * Waits (durably) for the next exit event of a monitored or linked run, oldest first.
   * @example const exit = await ctx.nextExit(); if (exit.status === "failed") ctx.log("lost", { id: exit.targetId });
   */
  nextExit(options?: NextExitOptions): Promise<ExitEvent>;
  /**
   * A supervision group owned by this run: members that end abnormally are restarted by the
   * strategy, within a restart budget.
   * @example
   * const group = ctx.supervise({ strategy: "one_for_one", maxRestarts: 3, window: "1m" });
   * const crawler = group.spawn(crawl, { site }, { key: "crawler" });
   * return crawler.result(); // the output of the run that finally completes
   */
  supervise(options?: SuperviseOptions): SupervisionGroup;
  /**
   * Delivers `payload` as a service signal to every subscribed, not-stopped instance of this project,
   * once per publish op (a replay does not publish again).
   * @example const { enqueued } = await ctx.publish("deploys", { version: "1.4.2" });
   */
  publish(topic: string, payload: unknown, options?: PublishOptions): Promise<PublishResult>;
  /**
   * The existing instance of the service whose definition declares `discovery.singletonRole = role`,
   * for `keyInput`; fails with `not_found` rather than create it.
   */
  lookupSingleton<D extends AnyServiceDefinition = AnyServiceDefinition>(role: string, keyInput?: unknown): Promise<ServiceRef<D>>;
}

/** The durable context of a workflow run. */
export interface WorkflowContext extends DurableContext {}

/** What `ctx.mailbox()` shows inside a service turn. */
export type MailboxSnapshot = MailboxView;

export interface DeferOptions {
  /** When the message becomes due again. */
  delay: Duration;
  reason?: string;
}

/** What `ctx.reject` takes (an `Error` fits: its `message` is used); a bare string is the message. */
export interface RejectOptions {
  /** What the asker's error says, as written. */
  message: string;
  reason?: string;
  details?: unknown;
}

/** The durable context of a service turn: the workflow members plus the inbox controls. */
export interface ServiceContext extends DurableContext {
  /** The current message and what is queued behind it (as of the start of this turn). */
  mailbox(): MailboxSnapshot;
  /** Puts the current message back, due after `delay` (its attempt goes up); ends the turn. */
  defer(options: DeferOptions): never;
  /**
   * Fails the current message without retry; an asking caller gets an error with this message,
   * code `service_turn_rejected` and `cause.reason` (the reason given, or `service_turn_rejected`). Ends the turn.
   * @example if (!p.to.includes("@")) ctx.reject({ message: "bad address", reason: "invalid_recipient" });
   */
  reject(error: RejectOptions | string): never;
  /**
   * Subscribes this instance to a topic of its project: each publish arrives as a service signal
   * to the onSignal handler named by `options.signal` (default: the topic), as a `Published`
   * (`{ topic, payload, publishId, publisherRunId }`). Survives restarts. Part of the turn's outcome:
   * it takes effect when the turn commits, and a turn that fails, is retried, deferred, rejected or
   * cancelled leaves none behind.
   */
  subscribe(topic: string, options?: SubscribeOptions): Promise<Subscription>;
  /** Ends this instance's subscription to a topic (only the one to `options.signal`, when given), when the turn commits. */
  unsubscribe(topic: string, options?: SubscribeOptions): Promise<Unsubscription>;
}
