/**
 * Inspection: reads what a run has recorded (`readRunHistory`, committed state, outside the
 * kernel's commands) and the daemons sharing the database (`listDaemons`), and turns stored rows
 * into the plain objects `inspect` returns: JSON columns parsed, times as epoch milliseconds, event
 * bodies spread into their events.
 */
import { isOpKind, isService, MESSAGE_STATUS, OP_KIND, type MessageStatus, type ChildInfo, type DaemonInfo, type EventInfo, type FailureBody, type MessageInfo, type OpInfo, type RunInfo, type RunInspection, type SignalInfo } from "../shared/index.ts";
import { explainOp, toExitEvent } from "../kernel/index.ts";
import type {
  EventRow,
  ExitEventRow,
  MemberRow,
  MessageRow,
  OpRow,
  RelationshipRow,
  RunRow,
  SignalRow,
  Store,
  StoreOps,
  SubscriptionRow,
  SupervisorRow,
} from "../store/index.ts";

export interface RunHistory {
  run: RunRow;
  ops: OpRow[];
  events: EventRow[];
  signals: SignalRow[];
  /** For a service instance: its latest messages (queued ones and the turns it handled). */
  messages: MessageRow[];
  /** The runs it started (ctx.spawn). */
  children: RunRow[];
  /** The monitors and links it holds. */
  relationships: RelationshipRow[];
  /** Exit events queued for it (or taken), oldest first. */
  exits: ExitEventRow[];
  /** A service instance's topic subscriptions. */
  subscriptions: SubscriptionRow[];
  /** Its supervision groups, each with its members and their current runs' statuses. */
  supervision: { group: SupervisorRow; members: (MemberRow & { status: RunRow["status"] })[] }[];
}

/** Everything the run has recorded, from committed state (`store.reads`); null when there is no such run. */
export async function readRunHistory(reads: StoreOps, runId: string): Promise<RunHistory | null> {
  const run = await reads.getRun(runId);
  if (!run) return null;
  const [ops, events, signals, messages, children, relationships, exits, subscriptions, groups] = await Promise.all([
    reads.listOps(runId),
    reads.listEvents(runId),
    reads.listSignals(runId),
    isService(run) ? reads.listMessages(runId, 200) : [],
    reads.listChildren(runId),
    reads.relationshipsOf(runId),
    reads.listExitEvents(runId),
    isService(run) ? reads.subscriptionsOf(runId) : [],
    reads.listSupervisors(runId),
  ]);
  const supervision = await Promise.all(
    groups.map(async (group) => ({
      group,
      members: await Promise.all(
        (await reads.listMembers(runId, group.groupKey)).map(async (m) => ({ ...m, status: (await reads.getRun(m.runId))?.status ?? ("pending" as const) })),
      ),
    })),
  );
  return { run, ops, events, signals, messages, children, relationships, exits, subscriptions, supervision };
}

/** The daemons sharing the database (this one included), or null on a store of one daemon. */
export async function listDaemons(store: Pick<Store, "cluster">): Promise<DaemonInfo[] | null> {
  const cluster = store.cluster;
  if (!cluster) return null;
  return (await cluster.members()).map((m) => ({
    id: m.id,
    host: m.host,
    pid: m.pid,
    version: m.version,
    startedAt: Math.round(m.startedAt),
    silentMs: Math.max(0, Math.round(m.silentMs)),
    self: m.id === cluster.daemonId,
  }));
}

const parse = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));

/** Messages still to be served (the inbox); the others are turns that ended. */
const OPEN_MESSAGE: ReadonlySet<MessageStatus> = new Set([MESSAGE_STATUS.queued, MESSAGE_STATUS.deferred, MESSAGE_STATUS.active]);

function toMessageInfo(row: MessageRow): MessageInfo {
  const info: MessageInfo = {
    id: row.id,
    kind: row.kind,
    name: row.name,
    status: row.status,
    attempt: row.attempt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  if (row.payload !== null) info.payload = parse(row.payload);
  if (row.reply !== null) info.reply = parse(row.reply);
  if (row.error !== null) info.error = parse(row.error) as FailureBody;
  if (row.senderRunId !== null) info.from = row.senderRunId;
  if (row.wakeAt !== null) info.wakeAt = row.wakeAt;
  return info;
}

export function toRunInfo(row: RunRow): RunInfo {
  const info: RunInfo = {
    id: row.id,
    kind: row.kind,
    name: row.name,
    status: row.status,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
  if (row.project !== "") info.project = row.project;
  if (row.input !== null) info.input = parse(row.input);
  if (row.output !== null) info.output = parse(row.output);
  if (row.error !== null) info.error = parse(row.error) as FailureBody;
  if (row.parentId !== null) info.parentId = row.parentId;
  if (row.serviceKey !== null) info.key = row.serviceKey;
  if (row.keyInput !== null) info.keyInput = parse(row.keyInput);
  if (row.state !== null) info.state = parse(row.state);
  if (row.finishedAt !== null) info.finishedAt = row.finishedAt;
  if (row.crashes > 0) info.crashes = row.crashes;
  return info;
}

function toOpInfo(row: OpRow): OpInfo {
  const info: OpInfo = { opKey: row.opKey, seq: row.seq, kind: row.kind, name: row.name, status: row.status, attempt: row.attempt };
  if (row.result !== null) info.result = parse(row.result);
  if (row.error !== null) info.error = parse(row.error) as FailureBody;
  if (row.wakeAt !== null) info.wakeAt = row.wakeAt;
  if (row.meta !== null) info.meta = parse(row.meta);
  return info;
}

export function toEventInfo(row: EventRow): EventInfo {
  return { seq: row.seq, type: row.type, at: row.at, ...(parse(row.body) as Record<string, unknown> | undefined) };
}

function toSignalInfo(row: SignalRow): SignalInfo {
  const info: SignalInfo = { id: row.id, name: row.name, status: row.status, createdAt: row.createdAt };
  if (row.payload !== null) info.payload = parse(row.payload);
  if (row.consumedBy !== null) info.consumedBy = row.consumedBy;
  return info;
}

/** Per op: how many attempts were hard-stopped, and how many workers died in its code (from the timeline). */
function tally(events: EventRow[]): Map<string, { forced: number; crashes: number }> {
  const byOp = new Map<string, { forced: number; crashes: number }>();
  for (const event of events) {
    if (event.type !== "step_attempt_failed" && event.type !== "worker_crashed") continue;
    const body = parse(event.body) as { opKey?: string; forcedTermination?: boolean } | undefined;
    if (!body?.opKey) continue;
    const count = byOp.get(body.opKey) ?? { forced: 0, crashes: 0 };
    if (event.type === "worker_crashed") count.crashes++;
    else if (body.forcedTermination) count.forced++;
    byOp.set(body.opKey, count);
  }
  return byOp;
}

/**
 * A step that never recorded anything (its worker died every time it ran) has no row in the op
 * journal; the view still lists it, from its op key, as `interrupted`.
 */
function interruptedOp(opKey: string, crashes: number): OpInfo {
  const local = opKey.slice(opKey.lastIndexOf("/") + 1);
  const prefix = local.slice(0, local.indexOf(":"));
  // Only a step's or an exec's code runs in a worker; an explicit key does not say which: a step.
  const kind = isOpKind(prefix) ? prefix : OP_KIND.step;
  const name = local.slice(local.indexOf(":") + 1, local.lastIndexOf(":"));
  return { opKey, seq: -1, kind, name, status: "interrupted", attempt: crashes, workerCrashes: crashes };
}

function toChildInfo(row: RunRow): ChildInfo {
  const info: ChildInfo = { id: row.id, name: row.name, status: row.status, createdAt: row.createdAt };
  if (row.finishedAt !== null) info.finishedAt = row.finishedAt;
  return info;
}

export function toInspection(history: RunHistory, now = Date.now()): RunInspection {
  const counts = tally(history.events);
  const ops = history.ops.map((row) => {
    const info = toOpInfo(row);
    const count = counts.get(row.opKey);
    if (count?.forced) info.forcedTerminations = count.forced;
    if (count?.crashes) info.workerCrashes = count.crashes;
    const waitingFor = explainOp(info, now, history.run.id);
    if (waitingFor !== undefined) info.waitingFor = waitingFor;
    return info;
  });
  const recorded = new Set(history.ops.map((op) => op.opKey));
  for (const [opKey, count] of counts) if (!recorded.has(opKey) && count.crashes > 0) ops.push(interruptedOp(opKey, count.crashes));
  return {
    run: toRunInfo(history.run),
    ops,
    events: history.events.map(toEventInfo),
    signals: history.signals.map(toSignalInfo),
    queued: history.messages.filter((m) => OPEN_MESSAGE.has(m.status)).map(toMessageInfo),
    turns: history.messages.filter((m) => !OPEN_MESSAGE.has(m.status)).map(toMessageInfo),
    children: history.children.map(toChildInfo),
    trapsExits: history.run.trapsExits === 1,
    relationships: history.relationships.map((r) => ({ targetId: r.targetId, kind: r.kind, propagate: r.propagate, createdAt: r.createdAt })),
    exits: history.exits.map((row) => ({ id: row.id, ...toExitEvent(row), ...(row.consumedBy !== null ? { consumedBy: row.consumedBy } : {}) })),
    subscriptions: history.subscriptions.map((sub) => ({ topic: sub.topic, signal: sub.handler })),
    supervision: history.supervision.map(({ group, members }) => ({
      groupKey: group.groupKey,
      strategy: group.strategy,
      maxRestarts: group.maxRestarts,
      windowMs: group.windowMs,
      recentRestarts: JSON.parse(group.restarts) as number[],
      exhausted: group.exhausted === 1,
      members: members.map((m) => ({ key: m.memberKey, workflow: m.workflow, runId: m.runId, restarts: m.restarts, status: m.status })),
    })),
  };
}

export type { ChildInfo, RunInfo, OpInfo, EventInfo, SignalInfo, MessageInfo, RunInspection };
