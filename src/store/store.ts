/**
 * The SQLite statements: every SQL statement of the SQLite store lives here, behind methods that
 * speak in rows. They are synchronous (bun:sqlite); `sqlite-store.ts` puts them behind the
 * asynchronous boundary every store implements (`boundary.ts`).
 */
import type { Database } from "bun:sqlite";
import { VilanoError, type AnyRunStatus, type OpStatus } from "../shared/index.ts";
import { migrate } from "./migrate.ts";
import { openDatabase, type OpenOptions } from "./open.ts";
import type { EventRow, NewRun, OpRow, OpWrite, RunListFilter, RunRow, SignalRow } from "./rows.ts";
import { createInboxQueries, type InboxQueries } from "./inbox-queries.ts";
import { createProjectQueries, type ProjectQueries } from "./project-queries.ts";
import { createRelationQueries, type RelationQueries } from "./relation-queries.ts";
import { createSupervisionQueries, type SupervisionQueries } from "./supervision-queries.ts";
import { createSubscriptionQueries, type SubscriptionQueries } from "./subscription-queries.ts";
import { startCheckpointer, type Checkpointer } from "./checkpointer.ts";
import { createCommitDurability, type CommitDurability } from "./sqlite-commit-durability.ts";

// Parameters in WHERE clauses are written `+?`: with a bare `?` this SQLite build re-prepares the
// statement on every call (several µs) because the value might change the plan; the unary plus
// keeps the same index use without that (measured: MAX(seq) lookup 2.8 µs → 0.5 µs).
const RUN_COLUMNS = `id, kind, name, status, input, output, error, parent_id AS parentId, project, snapshot_id AS snapshotId,
  service_key AS serviceKey,
  key_input AS keyInput, state, lease_fence AS leaseFence, crashes, traps_exits AS trapsExits,
  created_at AS createdAt, updated_at AS updatedAt, finished_at AS finishedAt`;
const OP_COLUMNS = `run_id AS runId, op_key AS opKey, seq, kind, name, status, attempt, result, error,
  wake_at AS wakeAt, meta, resolved_seq AS resolvedSeq, updated_at AS updatedAt`;

import { prefixEnd } from "./prefix.ts";
export { prefixEnd };

export interface DueTimer {
  runId: string;
  opKey: string;
  kind: string;
  name: string;
  status: OpStatus;
  attempt: number;
  wakeAt: number;
}

export interface SyncStore extends InboxQueries, ProjectQueries, RelationQueries, SupervisionQueries, SubscriptionQueries {
  readonly path: string;
  readonly schemaVersion: number;
  begin(): void;
  commit(): void;
  rollback(): void;
  savepoint(): void;
  release(): void;
  rollbackToSavepoint(): void;
  readonly inTransaction: boolean;
  /** Before BEGIN: whether the next COMMIT waits for the disk (see sqlite-commit-durability.ts). */
  waitForDisk(waits: boolean): void;
  /** Makes every commit so far durable (an fsync of the write-ahead log). */
  syncLog(): void;

  insertRun(run: NewRun): void;
  getRun(id: string): RunRow | null;
  setRunStatus(id: string, status: AnyRunStatus, now: number): void;
  finishRun(id: string, status: AnyRunStatus, output: string | null, error: string | null, now: number): void;
  /** Starts a new lease on the run: the fence goes up and any wake-up noted meanwhile is consumed. */
  bumpFence(id: string, now: number): number;
  setWakePending(id: string, pending: boolean): void;
  /** Worker crashes in a row while this run held an activation (reset when an activation ends normally). */
  setCrashes(id: string, crashes: number): void;
  getWakePending(id: string): boolean;
  getMeta(key: string): string | null;
  setMeta(key: string, value: string): void;
  listRuns(filter?: RunListFilter): RunRow[];
  listRunIdsWithStatus(statuses: readonly AnyRunStatus[]): string[];

  listOps(runId: string): OpRow[];
  /** The ops whose keys start with `prefix` (a service turn's scope), in call order. */
  listOpsWithPrefix(runId: string, prefix: string): OpRow[];
  getOp(runId: string, opKey: string): OpRow | null;
  putOp(op: OpWrite): void;
  /** Gives the run's outcomes written `unseen` their delivery numbers, in the order they were settled. */
  numberUnseenOutcomes(runId: string): void;
  latestWaitingSignalOp(runId: string, signalName: string): OpRow | null;
  /** The earliest waiting op of `kind` (FIFO waits such as ctx.nextExit). */
  firstWaitingOp(runId: string, kind: string): OpRow | null;
  closeOpenOps(runId: string, status: OpStatus, now: number): void;
  /** Closes the open ops whose keys start with `prefix` (a finished turn's). */
  closeOpenOpsWithPrefix(runId: string, prefix: string, status: OpStatus, now: number): void;
  dueTimers(now: number, limit: number): DueTimer[];
  /** Sleeps due after `after` and by `until`: they are fired ahead of time (the code waits for the due time itself). */
  dueSleeps(after: number, until: number, limit: number): DueTimer[];
  /** The earliest due time of a sleep, and of every other timer (ops and service messages). */
  nextWakes(): { sleep: number | null; other: number | null };
  /** The earliest due time of a sleep due after `after`. */
  nextSleepAfter(after: number): number | null;
  /** How many of the run's ops are still open (not completed or failed). */
  openOpCount(runId: string): number;

  /** Appends the run's next event (its sequence number is the run's last plus one). */
  appendEvent(runId: string, type: string, body: string | null, at: number): void;
  listEvents(runId: string, afterSeq?: number): EventRow[];

  insertSignal(runId: string, name: string, payload: string | null, status: string, consumedBy: string | null, now: number): number;
  takeBufferedSignal(runId: string, name: string, consumedBy: string): SignalRow | null;
  listSignals(runId: string): SignalRow[];

  /** The runs started by `parentId` (ctx.spawn), oldest first. */
  listChildren(parentId: string): RunRow[];
  /** Notes that `waiterId`'s op `opKey` waits for `targetId` to end. */
  addRunWaiter(targetId: string, waiterId: string, opKey: string, now: number): void;
  /** Removes and returns who waits for `targetId` to end. */
  takeRunWaiters(targetId: string): { waiterId: string; opKey: string }[];

  integrityCheck(): string;
  close(): void;
}

export interface StoreOptions extends OpenOptions {
  /** Checkpoint the write-ahead log from a thread of its own (default: for files; see checkpointer.ts). */
  checkpointThread?: boolean;
}

/** Opens (and migrates) the database at `path`, or `:memory:`. */
export function openSyncStore(path: string, options: StoreOptions = {}): SyncStore {
  const db = openDatabase(path, options);
  let schemaVersion: number;
  try {
    schemaVersion = migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  const checkpointer = path !== ":memory:" && options.checkpointThread !== false ? startCheckpointer(db, path) : null;
  return buildStore(db, path, schemaVersion, checkpointer, createCommitDurability(db, path, options.synchronous ?? "FULL"));
}

function buildStore(db: Database, path: string, schemaVersion: number, checkpointer: Checkpointer | null, durability: CommitDurability): SyncStore {
  const q = {
    begin: db.query("BEGIN IMMEDIATE"),
    commit: db.query("COMMIT"),
    rollback: db.query("ROLLBACK"),
    savepoint: db.query("SAVEPOINT cmd"),
    release: db.query("RELEASE cmd"),
    rollbackTo: db.query("ROLLBACK TO cmd"),
    insertRun: db.query(
      `INSERT INTO runs (id, kind, name, status, input, parent_id, project, snapshot_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getRun: db.query<RunRow, [string]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = +?`),
    setRunStatus: db.query("UPDATE runs SET status = ?, updated_at = ? WHERE id = +?"),
    finishRun: db.query("UPDATE runs SET status = ?, output = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = +?"),
    bumpFence: db.query<{ leaseFence: number }, [number, string]>(
      "UPDATE runs SET lease_fence = lease_fence + 1, wake_pending = 0, updated_at = ? WHERE id = +? RETURNING lease_fence AS leaseFence",
    ),
    setWakePending: db.query("UPDATE runs SET wake_pending = ? WHERE id = +?"),
    setCrashes: db.query("UPDATE runs SET crashes = ? WHERE id = +?"),
    getWakePending: db.query<{ w: number }, [string]>("SELECT wake_pending AS w FROM runs WHERE id = +?"),
    getMeta: db.query<{ value: string }, [string]>("SELECT value FROM meta WHERE key = +?"),
    setMeta: db.query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    runIdsWithStatus: db.query<{ id: string }, [string]>("SELECT id FROM runs WHERE status = +? ORDER BY created_at, id"),
    listOps: db.query<OpRow, [string]>(`SELECT ${OP_COLUMNS} FROM ops WHERE run_id = +? ORDER BY seq`),
    listOpsWithPrefix: db.query<OpRow, [string, string, string]>(
      `SELECT ${OP_COLUMNS} FROM ops WHERE run_id = +? AND op_key >= +? AND op_key < +? ORDER BY seq`,
    ),
    getOp: db.query<OpRow, [string, string]>(`SELECT ${OP_COLUMNS} FROM ops WHERE run_id = +? AND op_key = +?`),
    putOp: db.query(
      `INSERT INTO ops (run_id, op_key, seq, kind, name, status, attempt, result, error, wake_at, meta, resolved_seq, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(run_id, op_key) DO UPDATE SET status = excluded.status, attempt = excluded.attempt,
         result = excluded.result, error = excluded.error, wake_at = excluded.wake_at, meta = excluded.meta,
         resolved_seq = COALESCE(ops.resolved_seq, excluded.resolved_seq), updated_at = excluded.updated_at`,
    ),
    lastResolvedSeq: db.query<{ seq: number | null }, [string]>(
      "SELECT MAX(resolved_seq) AS seq FROM ops WHERE run_id = +? AND resolved_seq IS NOT NULL",
    ),
    unnumbered: db.query<{ opKey: string }, [string]>(
      "SELECT op_key AS opKey FROM ops WHERE run_id = +? AND status IN ('completed', 'failed') AND resolved_seq IS NULL ORDER BY updated_at, seq",
    ),
    setResolvedSeq: db.query("UPDATE ops SET resolved_seq = ? WHERE run_id = +? AND op_key = +?"),
    waitingSignalOp: db.query<OpRow, [string, string]>(
      `SELECT ${OP_COLUMNS} FROM ops WHERE run_id = +? AND kind = 'signal' AND name = +? AND status = 'waiting'
       ORDER BY seq DESC LIMIT 1`,
    ),
    firstWaitingOp: db.query<OpRow, [string, string]>(
      `SELECT ${OP_COLUMNS} FROM ops WHERE run_id = +? AND kind = +? AND status = 'waiting' ORDER BY seq LIMIT 1`,
    ),
    closeOpenOps: db.query(
      `UPDATE ops SET status = ?, wake_at = NULL, updated_at = ?
       WHERE run_id = +? AND status IN ('waiting', 'retry_wait', 'retry_ready')`,
    ),
    closeOpenOpsWithPrefix: db.query(
      `UPDATE ops SET status = ?, wake_at = NULL, updated_at = ?
       WHERE run_id = +? AND op_key >= +? AND op_key < +? AND status IN ('waiting', 'retry_wait', 'retry_ready')`,
    ),
    dueTimers: db.query<DueTimer, [number, number]>(
      `SELECT run_id AS runId, op_key AS opKey, kind, name, status, attempt, wake_at AS wakeAt
       FROM ops WHERE wake_at IS NOT NULL AND wake_at <= +? ORDER BY wake_at LIMIT ?`,
    ),
    dueSleeps: db.query<DueTimer, [number, number, number]>(
      `SELECT run_id AS runId, op_key AS opKey, kind, name, status, attempt, wake_at AS wakeAt
       FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep' AND wake_at > ? AND wake_at <= ? ORDER BY wake_at LIMIT ?`,
    ),
    nextSleepWake: db.query<{ at: number | null }, []>(`SELECT MIN(wake_at) AS at FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep'`),
    nextSleepAfter: db.query<{ at: number | null }, [number]>(`SELECT MIN(wake_at) AS at FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep' AND wake_at > ?`),
    openOpCount: db.query<{ n: number }, [string]>(`SELECT COUNT(*) AS n FROM ops WHERE run_id = ? AND status NOT IN ('completed', 'failed')`),
    nextOtherWake: db.query<{ at: number | null }, []>(
      `SELECT MIN(at) AS at FROM (SELECT MIN(wake_at) AS at FROM ops WHERE wake_at IS NOT NULL AND kind <> 'sleep'
         UNION ALL SELECT MIN(wake_at) FROM messages WHERE wake_at IS NOT NULL)`,
    ),
    // Two plain statements beat one INSERT with a sub-select and RETURNING (which builds a
    // temporary table per call): the event append is on every op's hot path.
    lastEventSeq: db.query<{ seq: number | null }, [string]>("SELECT MAX(seq) AS seq FROM events WHERE run_id = +?"),
    appendEvent: db.query("INSERT INTO events (run_id, seq, type, body, at) VALUES (?, ?, ?, ?, ?)"),
    listEvents: db.query<EventRow, [string, number]>(
      "SELECT run_id AS runId, seq, type, body, at FROM events WHERE run_id = +? AND seq > +? ORDER BY seq",
    ),
    insertSignal: db.query<{ id: number }, [string, string, string | null, string, string | null, number]>(
      `INSERT INTO signals (run_id, name, payload, status, consumed_by, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    firstBufferedSignal: db.query<SignalRow, [string, string]>(
      `SELECT id, run_id AS runId, name, payload, status, consumed_by AS consumedBy, created_at AS createdAt
       FROM signals WHERE run_id = +? AND name = +? AND status = 'buffered' ORDER BY id LIMIT 1`,
    ),
    consumeSignal: db.query("UPDATE signals SET status = 'consumed', consumed_by = ? WHERE id = +?"),
    listChildren: db.query<RunRow, [string]>(`SELECT ${RUN_COLUMNS} FROM runs WHERE parent_id = +? ORDER BY created_at, id`),
    addRunWaiter: db.query("INSERT OR IGNORE INTO run_waiters (target_id, waiter_id, op_key, created_at) VALUES (?, ?, ?, ?)"),
    runWaiters: db.query<{ waiterId: string; opKey: string }, [string]>(
      "SELECT waiter_id AS waiterId, op_key AS opKey FROM run_waiters WHERE target_id = +? ORDER BY created_at, waiter_id, op_key",
    ),
    dropRunWaiters: db.query("DELETE FROM run_waiters WHERE target_id = +?"),
    listSignals: db.query<SignalRow, [string]>(
      `SELECT id, run_id AS runId, name, payload, status, consumed_by AS consumedBy, created_at AS createdAt
       FROM signals WHERE run_id = +? ORDER BY id`,
    ),
  };

  const guard = <T>(what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (cause) {
      if (cause instanceof VilanoError) throw cause;
      throw new VilanoError("storage_failed", `database ${what} failed: ${(cause as Error).message}`, { cause });
    }
  };

  return {
    ...createInboxQueries(db),
    ...createProjectQueries(db),
    ...createRelationQueries(db),
    ...createSupervisionQueries(db),
    ...createSubscriptionQueries(db),
    path,
    schemaVersion,
    begin: () => guard("begin", () => q.begin.run()),
    commit: () => {
      guard("commit", () => q.commit.run());
      checkpointer?.afterCommit();
    },
    rollback: () => {
      if (db.inTransaction) q.rollback.run();
    },
    savepoint: () => q.savepoint.run(),
    release: () => q.release.run(),
    rollbackToSavepoint: () => {
      q.rollbackTo.run();
      q.release.run();
    },
    get inTransaction() {
      return db.inTransaction;
    },
    waitForDisk: (waits) => guard("synchronous", () => durability.waitForDisk(waits)),
    syncLog: () => guard("fsync of the log", () => durability.syncLog()),

    insertRun: (r) => void q.insertRun.run(r.id, r.kind, r.name, r.status, r.input, r.parentId, r.project, r.snapshotId, r.now, r.now),
    getRun: (id) => q.getRun.get(id),
    setRunStatus: (id, status, now) => void q.setRunStatus.run(status, now, id),
    finishRun: (id, status, output, error, now) => void q.finishRun.run(status, output, error, now, now, id),
    bumpFence: (id, now) => {
      const row = q.bumpFence.get(now, id);
      if (!row) throw new VilanoError("not_found", `run ${id} does not exist`);
      return row.leaseFence;
    },
    setWakePending: (id, pending) => void q.setWakePending.run(pending ? 1 : 0, id),
    setCrashes: (id, crashes) => void q.setCrashes.run(crashes, id),
    getWakePending: (id) => (q.getWakePending.get(id)?.w ?? 0) === 1,
    getMeta: (key) => q.getMeta.get(key)?.value ?? null,
    setMeta: (key, value) => void q.setMeta.run(key, value),
    listRuns: (filter = {}) => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (filter.status) {
        where.push("status = ?");
        args.push(filter.status);
      }
      if (filter.name) {
        where.push("name = ?");
        args.push(filter.name);
      }
      if (filter.project !== undefined) {
        where.push("project = ?");
        args.push(filter.project);
      }
      if (filter.kind) {
        // By kind alone the kind index serves the page; beside a narrower filter, the `+` keeps
        // the planner (which has no statistics) from picking the kind index over that one's.
        where.push(where.length === 0 ? "kind = ?" : "+kind = ?");
        args.push(filter.kind);
      }
      if (filter.after) {
        // A row value: the index on (…, created_at, id) seeks straight to the page.
        where.push("(created_at, id) < (?, ?)");
        args.push(filter.after.createdAt, filter.after.id);
      }
      const sql = `SELECT ${RUN_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at DESC, id DESC LIMIT ?`;
      args.push(filter.limit ?? 100);
      return db.query<RunRow, (string | number)[]>(sql).all(...args);
    },
    listRunIdsWithStatus: (statuses) => statuses.flatMap((s) => q.runIdsWithStatus.all(s).map((r) => r.id)),

    listOps: (runId) => q.listOps.all(runId),
    listOpsWithPrefix: (runId, prefix) => q.listOpsWithPrefix.all(runId, prefix, prefixEnd(prefix)),
    closeOpenOpsWithPrefix: (runId, prefix, status, now) => void q.closeOpenOpsWithPrefix.run(status, now, runId, prefix, prefixEnd(prefix)),
    getOp: (runId, opKey) => q.getOp.get(runId, opKey),
    putOp: (o) => {
      // An outcome gets the next delivery number of its run; replay delivers outcomes in that order.
      const resolved = (o.status === "completed" || o.status === "failed") && !o.unseen ? (q.lastResolvedSeq.get(o.runId)?.seq ?? 0) + 1 : null;
      q.putOp.run(o.runId, o.opKey, o.seq, o.kind, o.name, o.status, o.attempt, o.result, o.error, o.wakeAt, o.meta, resolved, o.now);
    },
    numberUnseenOutcomes: (runId) => {
      const unseen = q.unnumbered.all(runId);
      if (unseen.length === 0) return;
      let next = (q.lastResolvedSeq.get(runId)?.seq ?? 0) + 1;
      for (const { opKey } of unseen) q.setResolvedSeq.run(next++, runId, opKey);
    },
    latestWaitingSignalOp: (runId, name) => q.waitingSignalOp.get(runId, name),
    firstWaitingOp: (runId, kind) => q.firstWaitingOp.get(runId, kind),
    closeOpenOps: (runId, status, now) => void q.closeOpenOps.run(status, now, runId),
    dueTimers: (now, limit) => q.dueTimers.all(now, limit),
    dueSleeps: (after, until, limit) => q.dueSleeps.all(after, until, limit),
    nextWakes: () => ({ sleep: q.nextSleepWake.get()?.at ?? null, other: q.nextOtherWake.get()?.at ?? null }),
    nextSleepAfter: (after) => q.nextSleepAfter.get(after)?.at ?? null,
    openOpCount: (runId) => q.openOpCount.get(runId)!.n,

    appendEvent: (runId, type, body, at) => {
      const seq = (q.lastEventSeq.get(runId)?.seq ?? 0) + 1;
      q.appendEvent.run(runId, seq, type, body, at);
    },
    listEvents: (runId, afterSeq = 0) => q.listEvents.all(runId, afterSeq),

    insertSignal: (runId, name, payload, status, consumedBy, now) =>
      q.insertSignal.get(runId, name, payload, status, consumedBy, now)!.id,
    takeBufferedSignal: (runId, name, consumedBy) => {
      const row = q.firstBufferedSignal.get(runId, name);
      if (!row) return null;
      q.consumeSignal.run(consumedBy, row.id);
      return { ...row, status: "consumed", consumedBy };
    },
    listSignals: (runId) => q.listSignals.all(runId),

    listChildren: (parentId) => q.listChildren.all(parentId),
    addRunWaiter: (targetId, waiterId, opKey, now) => void q.addRunWaiter.run(targetId, waiterId, opKey, now),
    takeRunWaiters: (targetId) => {
      const rows = q.runWaiters.all(targetId);
      if (rows.length > 0) q.dropRunWaiters.run(targetId);
      return rows;
    },

    integrityCheck: () => db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "no answer",
    close: () => {
      checkpointer?.close();
      db.close();
    },
  };
}
