/**
 * The view model of a run and its ops: what `inspect` returns, the API sends and the CLI renders.
 * JSON columns are parsed, times are epoch milliseconds, event bodies are spread into their events.
 */
import type { FailureBody } from "./failure.ts";
import type { EventType } from "./event-types.ts";
import type { OpKind } from "./op-commands.ts";
import type { MessageKind, RunKind } from "./run-kinds.ts";
import type { AnyRunStatus, MessageStatus, OpStatus, SignalStatus } from "./status.ts";

export interface RunInfo {
  id: string;
  kind: RunKind;
  name: string;
  status: AnyRunStatus;
  /** The registered project whose code it runs (none for the runs of an embedded runtime). */
  project?: string;
  input?: unknown;
  output?: unknown;
  error?: FailureBody;
  parentId?: string;
  /** Service instances: the key, its input and the durable state. */
  key?: string;
  keyInput?: unknown;
  state?: unknown;
  createdAt: number;
  updatedAt: number;
  finishedAt?: number;
  /** Worker crashes in a row so far (3 fail it with `worker_crashed`). */
  crashes?: number;
}

export interface OpInfo {
  opKey: string;
  seq: number;
  kind: OpKind;
  name: string;
  /** A journal status, or `interrupted` for a step whose worker died every time it ran. */
  status: OpStatus | "interrupted";
  attempt: number;
  result?: unknown;
  error?: FailureBody;
  wakeAt?: number;
  meta?: unknown;
  /** Attempts ended by killing the worker at the step's deadline (hard stop). */
  forcedTerminations?: number;
  /** Worker processes that died while this step's code ran in them. */
  workerCrashes?: number;
  /** For an open op (a wait, a retry backoff): what the run waits for, in words. */
  waitingFor?: string;
}

export interface EventInfo {
  seq: number;
  type: EventType;
  at: number;
  [field: string]: unknown;
}

export interface SignalInfo {
  id: number;
  name: string;
  payload?: unknown;
  status: SignalStatus;
  consumedBy?: string;
  createdAt: number;
}

export interface MessageInfo {
  id: number;
  kind: MessageKind;
  name: string;
  status: MessageStatus;
  attempt: number;
  payload?: unknown;
  reply?: unknown;
  error?: FailureBody;
  from?: string;
  wakeAt?: number;
  createdAt: number;
  updatedAt: number;
}

export interface RunInspection {
  run: RunInfo;
  ops: OpInfo[];
  events: EventInfo[];
  signals: SignalInfo[];
  /** Service instances: mail not handled yet (queued, deferred, the current turn's). */
  queued: MessageInfo[];
  /** Service instances: the turns handled, oldest first (the latest 200). */
  turns: MessageInfo[];
  /** The runs it started with `ctx.spawn`, oldest first. */
  children: ChildInfo[];
  /** Whether linked ends arrive as exit events (ctx.trapExit). */
  trapsExits: boolean;
  /** The monitors and links it holds (a link shows on both sides). */
  relationships: RelationshipInfo[];
  /** Exit events of related runs, in arrival order. */
  exits: ExitEventInfo[];
  /** The supervision groups it owns, with their members. */
  supervision: SupervisionInfo[];
  /** Service instances: the topics it is subscribed to, and the onSignal handler each goes to. */
  subscriptions: { topic: string; signal: string }[];
  /** The worker process its activation is on now (a worker pool's view; absent when it runs nowhere or in-process). */
  worker?: WorkerPlace;
}

/** Where a running activation is, as its worker pool sees it. */
export interface WorkerPlace {
  pid: number;
  /**
   * How long the worker has been silent while holding work: its event loop is blocked (code that
   * does not yield, such as a step in a loop). Absent while it answers.
   */
  blockedForMs?: number;
  /**
   * What was running in the blocked worker: its steps, and code of activations it had read running
   * outside any step (no `step`). The blocker is among them (one: it is the blocker).
   */
  blockedBy?: { runId: string; step?: string; opKey?: string }[];
}

export interface SupervisionInfo {
  groupKey: string;
  strategy: "one_for_one" | "one_for_all" | "rest_for_one";
  maxRestarts: number;
  windowMs: number;
  /** When the restarts still inside the window happened. */
  recentRestarts: number[];
  exhausted: boolean;
  members: { key: string; workflow: string; runId: string; restarts: number; status: AnyRunStatus }[];
}

/** A child run, as its parent's inspection lists it. */
export interface ChildInfo {
  id: string;
  name: string;
  status: AnyRunStatus;
  createdAt: number;
  finishedAt?: number;
}


/** The end of a monitored or linked run, as `ctx.nextExit()` returns it. */
export interface ExitEvent {
  targetId: string;
  targetKind: RunKind;
  relationship: "monitor" | "link";
  status: AnyRunStatus;
  /** When it ended (epoch ms). */
  at: number;
  output?: unknown;
  error?: FailureBody;
}

/** A relationship as inspect shows it: this run `monitor`s or is `link`ed with `targetId`. */
export interface RelationshipInfo {
  targetId: string;
  kind: "monitor" | "link";
  propagate: "abnormal" | "all";
  createdAt: number;
}

/** An exit event queued for (or taken by) this run. */
export interface ExitEventInfo extends ExitEvent {
  id: number;
  /** The `nextExit` op that took it; absent while queued. */
  consumedBy?: string;
}

/** A daemon (or embedded runtime) sharing a PostgreSQL database, as `daemon status` lists it. */
export interface DaemonInfo {
  id: string;
  host: string;
  pid: number;
  version: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** Milliseconds since its last heartbeat, by the database's clock. */
  silentMs: number;
  /** This very process. */
  self: boolean;
}
