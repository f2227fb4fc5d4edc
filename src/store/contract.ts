/**
 * The statements every store answers (`StoreOps`), declared here once, grouped by the table they
 * work on, rather than derived from one store's class: SQLite's synchronous statements (`store.ts`)
 * and PostgreSQL's (`postgres/`) are both checked against it. How each statement affects the
 * database (read, or which rows it writes) is in `statement-effects.ts`, a table the compiler
 * holds to exactly these names.
 *
 * Parameters that hold a kind, an event type or a status take the type of the matching row field,
 * so they narrow with the rows.
 */
import type { AnyRunStatus, OpStatus } from "../shared/index.ts";
import type { MessageUpdate } from "./inbox-queries.ts";
import type { NewExitEvent } from "./relation-queries.ts";
import type {
  EventRow, ExitEventRow, InboxCounts, MemberRow, MessageRow, NewInstance, NewMessage, NewRun, OpRow, OpWrite, ProjectRow,
  RelationshipKind, RelationshipRow, RunListFilter, RunRow, SignalRow, SubscriptionRow, SupervisorRow,
} from "./rows.ts";
import type { DueTimer } from "./store.ts";

/** `runs`: one row per workflow run or service instance. */
export interface RunStatements {
  insertRun(run: NewRun): Promise<void>;
  /** Null when there is no such run. */
  getRun(id: string): Promise<RunRow | null>;
  setRunStatus(id: string, status: AnyRunStatus, now: number): Promise<void>;
  /** Ends the run: its status, output or error, and `finishedAt`. */
  finishRun(id: string, status: AnyRunStatus, output: string | null, error: string | null, now: number): Promise<void>;
  /** Starts a new lease on the run: the fence goes up and any wake-up noted meanwhile is consumed. `not_found` without the run. */
  bumpFence(id: string, now: number): Promise<number>;
  /** Notes (or clears) that a wake-up came while the run was running. */
  setWakePending(id: string, pending: boolean): Promise<void>;
  getWakePending(id: string): Promise<boolean>;
  /** Worker crashes in a row while this run held an activation (reset when an activation ends normally). */
  setCrashes(id: string, crashes: number): Promise<void>;
  /** Newest first, one page (`limit`, default 100; `after` for the next). */
  listRuns(filter?: RunListFilter): Promise<RunRow[]>;
  /** The ids of the runs in any of `statuses`, oldest first within each status. */
  listRunIdsWithStatus(statuses: readonly AnyRunStatus[]): Promise<string[]>;
  /** The runs started by `parentId` (ctx.spawn), oldest first. */
  listChildren(parentId: string): Promise<RunRow[]>;
  /** Whether the run traps exits (ctx.trapExit: linked ends arrive as exit events). */
  setTrapsExits(runId: string, traps: boolean): Promise<void>;
}

/** `runs` of kind `service`: service instances and their state. */
export interface InstanceStatements {
  insertInstance(instance: NewInstance): Promise<void>;
  /** The instance's state (JSON), or null. */
  setState(runId: string, state: string | null, now: number): Promise<void>;
}

/** `ops`: the journal of each run's operations. */
export interface OpStatements {
  /** In call order (`seq`). */
  listOps(runId: string): Promise<OpRow[]>;
  /** The ops whose keys start with `prefix` (a service turn's scope), in call order. */
  listOpsWithPrefix(runId: string, prefix: string): Promise<OpRow[]>;
  getOp(runId: string, opKey: string): Promise<OpRow | null>;
  /** Inserts the op, or updates its outcome; an outcome (not `unseen`) gets the run's next delivery number. */
  putOp(op: OpWrite): Promise<void>;
  /** Gives the run's outcomes written `unseen` their delivery numbers, in the order they were settled. */
  numberUnseenOutcomes(runId: string): Promise<void>;
  /** The newest waiting signal op for that name. */
  latestWaitingSignalOp(runId: string, signalName: string): Promise<OpRow | null>;
  /** The earliest waiting op of `kind` (FIFO waits such as ctx.nextExit). */
  firstWaitingOp(runId: string, kind: OpRow["kind"]): Promise<OpRow | null>;
  /** Closes the run's open ops (waiting or retrying) with `status`, their timers cleared. */
  closeOpenOps(runId: string, status: OpStatus, now: number): Promise<void>;
  /** Closes the open ops whose keys start with `prefix` (a finished turn's). */
  closeOpenOpsWithPrefix(runId: string, prefix: string, status: OpStatus, now: number): Promise<void>;
  /** How many of the run's ops are still open (not completed or failed). */
  openOpCount(runId: string): Promise<number>;
}

/** `ops.wake_at` (and `messages.wake_at`): the timers. */
export interface TimerStatements {
  /** Op timers due by `now`, earliest first. */
  dueTimers(now: number, limit: number): Promise<DueTimer[]>;
  /** Sleeps due after `after` and by `until`: they are fired ahead of time (the code waits for the due time itself). */
  dueSleeps(after: number, until: number, limit: number): Promise<DueTimer[]>;
  /** The earliest due time of a sleep, and of every other timer (ops and service messages). */
  nextWakes(): Promise<{ sleep: number | null; other: number | null }>;
  /** The earliest due time of a sleep due after `after`. */
  nextSleepAfter(after: number): Promise<number | null>;
}

/** `events`: each run's history as shown (its sequence numbers are the run's own). */
export interface EventStatements {
  /** Appends the run's next event (its sequence number is the run's last plus one). */
  appendEvent(runId: string, type: EventRow["type"], body: string | null, at: number): Promise<void>;
  /** The run's events after `afterSeq` (default 0), in order. */
  listEvents(runId: string, afterSeq?: number): Promise<EventRow[]>;
}

/** `signals`: signals sent to workflow runs, buffered until a wait takes them. */
export interface SignalStatements {
  /** Its id. */
  insertSignal(runId: string, name: string, payload: string | null, status: SignalRow["status"], consumedBy: string | null, now: number): Promise<number>;
  /** The oldest buffered signal of that name, now consumed by `consumedBy`; null when none. */
  takeBufferedSignal(runId: string, name: string, consumedBy: string): Promise<SignalRow | null>;
  listSignals(runId: string): Promise<SignalRow[]>;
}

/** `run_waiters`: ops waiting for another run to end. */
export interface RunWaiterStatements {
  /** Notes that `waiterId`'s op `opKey` waits for `targetId` to end (once). */
  addRunWaiter(targetId: string, waiterId: string, opKey: string, now: number): Promise<void>;
  /** Removes and returns who waits for `targetId` to end, oldest first. */
  takeRunWaiters(targetId: string): Promise<{ waiterId: string; opKey: string }[]>;
  /** Moves the waits on `fromRunId`'s end to `toRunId` (a supervised result survives restarts). */
  moveRunWaiters(fromRunId: string, toRunId: string): Promise<void>;
}

/** `messages`: service inboxes (and asks a run made). */
export interface MessageStatements {
  /** Queued; its id. */
  insertMessage(message: NewMessage): Promise<number>;
  getMessage(id: number): Promise<MessageRow | null>;
  /** The message of the current (possibly suspended) turn. */
  activeMessage(serviceRunId: string): Promise<MessageRow | null>;
  /** The oldest ready message. */
  nextReadyMessage(serviceRunId: string): Promise<MessageRow | null>;
  updateMessage(id: number, update: MessageUpdate, now: number): Promise<void>;
  /** Queued and deferred messages (not the active one). */
  inboxCounts(serviceRunId: string): Promise<InboxCounts>;
  /** The newest `limit` messages, oldest of them first. */
  listMessages(serviceRunId: string, limit: number): Promise<MessageRow[]>;
  /** Messages not finished yet: queued, deferred and active. */
  openMessages(serviceRunId: string): Promise<MessageRow[]>;
  /** Asks this run made that are not finished (sends stand once enqueued: they are fire-and-forget). */
  openOutbound(senderRunId: string): Promise<MessageRow[]>;
  /** The same, limited to asks made by ops whose keys are in [`prefix`, `prefixEnd`) (one turn's). */
  openOutboundWithPrefix(senderRunId: string, prefix: string, prefixEnd: string): Promise<MessageRow[]>;
  /** Messages whose timer is due by `now`, earliest first. */
  dueMessages(now: number, limit: number): Promise<MessageRow[]>;
}

/** `projects`: registered projects and their current snapshot. */
export interface ProjectStatements {
  /** Adds the project or replaces what it holds (its `createdAt` stays). */
  putProject(project: Omit<ProjectRow, "createdAt" | "updatedAt">, now: number): Promise<void>;
  getProject(name: string): Promise<ProjectRow | null>;
  /** By name. */
  listProjects(): Promise<ProjectRow[]>;
  /** False when there was no such project. */
  deleteProject(name: string): Promise<boolean>;
  /** How many of the project's runs and service instances are not finished, by the snapshot they are pinned to. */
  liveRunsBySnapshot(project: string): Promise<Map<string, number>>;
}

/** `relationships` and `exit_events`: monitors and links, and the ends they queue for their owners. */
export interface RelationStatements {
  /** Adds `owner`'s relationship to `target`; false when it already existed (the first one stands). */
  addRelationship(ownerId: string, targetId: string, kind: RelationshipKind, propagate: "abnormal" | "all", now: number): Promise<boolean>;
  /** Who hears of `targetId`'s end. */
  relationshipsTo(targetId: string): Promise<RelationshipRow[]>;
  /** The relationships `ownerId` holds. */
  relationshipsOf(ownerId: string): Promise<RelationshipRow[]>;
  /** Its id. */
  insertExitEvent(event: NewExitEvent): Promise<number>;
  /** The oldest exit event of `ownerId` no `nextExit` has taken, now taken by `opKey`. */
  takeExitEvent(ownerId: string, opKey: string): Promise<ExitEventRow | null>;
  listExitEvents(ownerId: string): Promise<ExitEventRow[]>;
  /** Puts back the exit events taken by ops whose keys start with `prefix` (a service turn attempt that goes again); how many. */
  releaseExitEvents(ownerId: string, prefix: string): Promise<number>;
}

/** `supervisors` and `supervised_members`: supervision groups (ctx.supervise). */
export interface SupervisionStatements {
  /** Adds a group (a group already under that key stands). */
  insertSupervisor(row: Omit<SupervisorRow, "restarts" | "exhausted">): Promise<void>;
  getSupervisor(ownerId: string, groupKey: string): Promise<SupervisorRow | null>;
  listSupervisors(ownerId: string): Promise<SupervisorRow[]>;
  updateSupervisor(ownerId: string, groupKey: string, restarts: string, exhausted: boolean): Promise<void>;
  /** Adds a member at the group's next position; the row as stored. */
  insertMember(row: Omit<MemberRow, "restarts" | "position">): Promise<MemberRow>;
  getMember(ownerId: string, groupKey: string, memberKey: string): Promise<MemberRow | null>;
  /** The member whose current run is `runId`. */
  memberByRun(runId: string): Promise<MemberRow | null>;
  /** In start order. */
  listMembers(ownerId: string, groupKey: string): Promise<MemberRow[]>;
  /** The member's current run and how many restarts led to it. */
  setMemberRun(ownerId: string, groupKey: string, memberKey: string, runId: string, restarts: number): Promise<void>;
}

/** `subscriptions`: service instances' subscriptions to their project's topics. */
export interface SubscriptionStatements {
  /** Adds or refreshes a subscription; false when it was already there. */
  subscribe(row: SubscriptionRow): Promise<boolean>;
  /** Removes an instance's subscriptions to `topic` (only the one to `handler`, when given); how many. */
  unsubscribe(serviceRunId: string, project: string, topic: string, handler: string | null): Promise<number>;
  /** Subscriptions to `topic` in `project`, oldest first. */
  subscribersOf(project: string, topic: string): Promise<SubscriptionRow[]>;
  subscriptionsOf(serviceRunId: string): Promise<SubscriptionRow[]>;
}

/** `meta`, and the database as a whole. */
export interface MetaStatements {
  getMeta(key: string): Promise<string | null>;
  setMeta(key: string, value: string): Promise<void>;
  /** "ok" when the database is sound, else what is wrong. */
  integrityCheck(): Promise<string>;
}

/** The statements of a store, as methods that speak in rows. */
export interface StoreOps
  extends RunStatements, InstanceStatements, OpStatements, TimerStatements, EventStatements, SignalStatements, RunWaiterStatements,
    MessageStatements, ProjectStatements, RelationStatements, SupervisionStatements, SubscriptionStatements, MetaStatements {}
