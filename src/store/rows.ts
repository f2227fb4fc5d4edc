/**
 * Row shapes as the store returns them (snake_case columns mapped to camelCase fields).
 * JSON columns stay strings here: the store knows rows, not workflows.
 */
import type { AnyRunStatus, EventType, MessageKind, MessageStatus, OpKind, OpStatus, RunKind, SignalStatus } from "../shared/index.ts";

export interface RunRow {
  id: string;
  kind: RunKind;
  name: string;
  status: AnyRunStatus;
  input: string | null;
  output: string | null;
  error: string | null;
  parentId: string | null;
  /** The project the run belongs to ("" for runs of an embedded runtime). */
  project: string;
  /** The project snapshot the run is pinned to. */
  snapshotId: string | null;
  serviceKey: string | null;
  keyInput: string | null;
  state: string | null;
  leaseFence: number;
  /** Worker crashes in a row while it held an activation; 3 fail it with `worker_crashed`. */
  crashes: number;
  /** 1 when linked exits arrive as exit events instead of ending it (ctx.trapExit). */
  trapsExits: number;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /**
   * With several daemons on one database (PostgreSQL): the daemon holding the run's lease, or the
   * one that claimed it while pending; null when none does. Absent on SQLite (one daemon).
   */
  owner?: string | null;
}

export interface OpRow {
  runId: string;
  opKey: string;
  seq: number;
  kind: OpKind;
  name: string;
  status: OpStatus;
  attempt: number;
  result: string | null;
  error: string | null;
  wakeAt: number | null;
  meta: string | null;
  /** The order in which this op's outcome was delivered to the run's code (null while open). */
  resolvedSeq: number | null;
  updatedAt: number;
}

export interface EventRow {
  runId: string;
  seq: number;
  type: EventType;
  body: string | null;
  at: number;
}

export interface SignalRow {
  id: number;
  runId: string;
  name: string;
  payload: string | null;
  status: SignalStatus;
  consumedBy: string | null;
  createdAt: number;
}

export interface NewRun {
  id: string;
  kind: RunKind;
  name: string;
  status: AnyRunStatus;
  input: string | null;
  parentId: string | null;
  project: string;
  snapshotId: string | null;
  now: number;
}

export interface ProjectRow {
  name: string;
  path: string;
  snapshotId: string;
  snapshotDir: string;
  manifest: string;
  createdAt: number;
  updatedAt: number;
}

export interface OpWrite {
  runId: string;
  opKey: string;
  seq: number;
  kind: OpKind;
  name: string;
  status: OpStatus;
  attempt: number;
  result: string | null;
  error: string | null;
  wakeAt: number | null;
  meta: string | null;
  now: number;
  /**
   * An outcome the run's running activation does not see (a sleep or a signal settled while its
   * code still runs): it gets its delivery number only when the run is next leased
   * (`numberUnseenOutcomes`), after everything that activation saw.
   */
  unseen?: boolean;
}

export interface RunListFilter {
  status?: AnyRunStatus;
  name?: string;
  project?: string;
  kind?: RunKind;
  limit?: number;
  /** Only runs after this one in the list's order (newest first): the next page. */
  after?: { createdAt: number; id: string };
}

export interface MessageRow {
  id: number;
  serviceRunId: string;
  kind: MessageKind;
  name: string;
  payload: string | null;
  status: MessageStatus;
  attempt: number;
  senderRunId: string | null;
  senderOpKey: string | null;
  wakeAt: number | null;
  reply: string | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewMessage {
  serviceRunId: string;
  kind: MessageKind;
  name: string;
  payload: string | null;
  senderRunId: string | null;
  senderOpKey: string | null;
  now: number;
}

export interface NewInstance {
  id: string;
  project: string;
  snapshotId: string | null;
  name: string;
  serviceKey: string;
  keyInput: string | null;
  status: AnyRunStatus;
  now: number;
}

export interface InboxCounts {
  total: number;
  ready: number;
  deferred: number;
  asks: number;
  sends: number;
  signals: number;
  oldestAt: number | null;
  nextWakeAt: number | null;
}

export type RelationshipKind = "monitor" | "link";

/** `owner` hears of `target`'s end (a link in both directions is two rows). */
export interface RelationshipRow {
  targetId: string;
  ownerId: string;
  kind: RelationshipKind;
  /** Links: `abnormal` (only failures and cancellations propagate) or `all`. */
  propagate: "abnormal" | "all";
  createdAt: number;
}

/** The end of a related run, queued for its owner (`ctx.nextExit` takes them in order). */
export interface ExitEventRow {
  id: number;
  ownerId: string;
  targetId: string;
  targetKind: RunKind;
  relationship: RelationshipKind;
  status: AnyRunStatus;
  output: string | null;
  error: string | null;
  at: number;
  /** The op key of the `nextExit` that took it, or null while queued. */
  consumedBy: string | null;
}

export type SupervisionStrategy = "one_for_one" | "one_for_all" | "rest_for_one";

/** A supervision group owned by a run (ctx.supervise). */
export interface SupervisorRow {
  ownerId: string;
  groupKey: string;
  strategy: SupervisionStrategy;
  maxRestarts: number;
  windowMs: number;
  onExhausted: "fail_self";
  /** JSON array of the times of restarts still inside the window. */
  restarts: string;
  exhausted: number;
  createdAt: number;
}

/** A member of a supervision group: a keyed child whose current run is replaced on restart. */
export interface MemberRow {
  ownerId: string;
  groupKey: string;
  memberKey: string;
  /** Start order within the group (rest_for_one restarts those after a failed one). */
  position: number;
  workflow: string;
  input: string | null;
  runId: string;
  restarts: number;
  createdAt: number;
}

/** A service instance's subscription to a topic of its project: deliveries go to `handler` (an onSignal handler). */
export interface SubscriptionRow {
  project: string;
  topic: string;
  serviceRunId: string;
  handler: string;
  /** The instance's mailbox limit when it subscribed (deliveries beyond it are rejected). */
  maxQueued: number | null;
  createdAt: number;
}
