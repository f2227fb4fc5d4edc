/**
 * The core statements over PostgreSQL: runs, the op journal, events, signals, run waiters and
 * meta — the same methods as the SQLite store's (`store.ts`), with the same results.
 */
import type { SQL } from "bun";
import { VilanoError } from "../../shared/index.ts";
import type {
  EventStatements, MetaStatements, OpStatements, RunStatements, RunWaiterStatements, SignalStatements, TimerStatements,
} from "../contract.ts";

type Core = Omit<RunStatements, "setTrapsExits"> & OpStatements & TimerStatements & EventStatements & SignalStatements
  & Omit<RunWaiterStatements, "moveRunWaiters"> & MetaStatements;

export const PG_RUN_COLUMNS = `id, kind, name, status, input, output, error, parent_id AS "parentId", project, snapshot_id AS "snapshotId",
  service_key AS "serviceKey", key_input AS "keyInput", state, lease_fence AS "leaseFence", crashes, traps_exits AS "trapsExits",
  created_at AS "createdAt", updated_at AS "updatedAt", finished_at AS "finishedAt", owner`;
export const PG_OP_COLUMNS = `run_id AS "runId", op_key AS "opKey", seq, kind, name, status, attempt, result, error,
  wake_at AS "wakeAt", meta, resolved_seq AS "resolvedSeq", updated_at AS "updatedAt"`;
const TIMER_COLUMNS = `run_id AS "runId", op_key AS "opKey", kind, name, status, attempt, wake_at AS "wakeAt"`;
const SIGNAL_COLUMNS = `id, run_id AS "runId", name, payload, status, consumed_by AS "consumedBy", created_at AS "createdAt"`;
const OPEN_OP = `status IN ('waiting', 'retry_wait', 'retry_ready')`;

/**
 * `later`: sends a write whose answer nobody needs without waiting for it. Inside the writer's
 * transaction it is pipelined on the transaction's connection (statements after it run after it,
 * and the store waits for every one before a savepoint ends or the transaction commits); outside
 * one it is simply awaited.
 */
export type Later = (write: Promise<unknown>) => Promise<void>;

/** `me`: this daemon's id, written as the owner of the runs it leases (see cluster.ts). */
export function pgCoreStatements(db: () => SQL, later: Later, me: string): Core {
  const one = async <T>(rows: Promise<T[]>): Promise<T | null> => (await rows)[0] ?? null;
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    insertRun: (r) =>
      later(db()`INSERT INTO runs (id, kind, name, status, input, parent_id, project, snapshot_id, created_at, updated_at)
        VALUES (${r.id}, ${r.kind}, ${r.name}, ${r.status}, ${r.input}, ${r.parentId}, ${r.project}, ${r.snapshotId}, ${r.now}, ${r.now})`),
    getRun: (id) => one(db().unsafe(`SELECT ${PG_RUN_COLUMNS} FROM runs WHERE id = $1`, [id])),
    // A lease is this daemon's; any other status leaves the run to no daemon (pending: to any claim).
    setRunStatus: (id, status, now) =>
      later(db()`UPDATE runs SET status = ${status}, owner = ${status === "running" || status === "active" ? me : null}, updated_at = ${now} WHERE id = ${id}`),
    finishRun: (id, status, output, error, now) =>
      later(db()`UPDATE runs SET status = ${status}, owner = NULL, output = ${output}, error = ${error}, updated_at = ${now}, finished_at = ${now} WHERE id = ${id}`),
    bumpFence: async (id, now) => {
      const row = await one(db()`UPDATE runs SET lease_fence = lease_fence + 1, wake_pending = 0, updated_at = ${now} WHERE id = ${id} RETURNING lease_fence AS "leaseFence"`);
      if (!row) throw new VilanoError("not_found", `run ${id} does not exist`);
      return (row as { leaseFence: number }).leaseFence;
    },
    setWakePending: (id, pending) => later(db()`UPDATE runs SET wake_pending = ${pending ? 1 : 0} WHERE id = ${id}`),
    setCrashes: (id, crashes) => later(db()`UPDATE runs SET crashes = ${crashes} WHERE id = ${id}`),
    getWakePending: async (id) => ((await one<{ w: number }>(db()`SELECT wake_pending AS w FROM runs WHERE id = ${id}`))?.w ?? 0) === 1,
    getMeta: async (key) => (await one<{ value: string }>(db()`SELECT value FROM meta WHERE key = ${key}`))?.value ?? null,
    setMeta: async (key, value) => void (await db()`INSERT INTO meta (key, value) VALUES (${key}, ${value}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    listRuns: async (filter = {}) => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      const param = (value: string | number) => `$${args.push(value)}`;
      if (filter.status) where.push(`status = ${param(filter.status)}`);
      if (filter.name) where.push(`name = ${param(filter.name)}`);
      if (filter.project !== undefined) where.push(`project = ${param(filter.project)}`);
      if (filter.kind) where.push(`kind = ${param(filter.kind)}`);
      // A row value: the index on (…, created_at, id) seeks straight to the page.
      if (filter.after) where.push(`(created_at, id) < (${param(filter.after.createdAt)}, ${param(filter.after.id)})`);
      const text = `SELECT ${PG_RUN_COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY created_at DESC, id DESC LIMIT ${param(filter.limit ?? 100)}`;
      return all(db().unsafe(text, args));
    },
    listRunIdsWithStatus: async (statuses) => {
      const ids: string[] = [];
      for (const status of statuses) for (const row of await db()`SELECT id FROM runs WHERE status = ${status} ORDER BY created_at, id`) ids.push(row.id);
      return ids;
    },

    listOps: (runId) => all(db().unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id = $1 ORDER BY seq`, [runId])),
    listOpsWithPrefix: (runId, prefix) => all(db().unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id = $1 AND starts_with(op_key, $2) ORDER BY seq`, [runId, prefix])),
    getOp: (runId, opKey) => one(db().unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id = $1 AND op_key = $2`, [runId, opKey])),
    // An outcome gets the next delivery number of its run (replay delivers outcomes in that
    // order), worked out in the statement itself so the write can be pipelined.
    putOp: (o) =>
      later(db()`INSERT INTO ops (run_id, op_key, seq, kind, name, status, attempt, result, error, wake_at, meta, resolved_seq, updated_at)
        VALUES (${o.runId}, ${o.opKey}, ${o.seq}, ${o.kind}, ${o.name}, ${o.status}, ${o.attempt}, ${o.result}, ${o.error}, ${o.wakeAt}, ${o.meta},
          CASE WHEN ${(o.status === "completed" || o.status === "failed") && !o.unseen}::boolean
            THEN (SELECT COALESCE(MAX(resolved_seq), 0) + 1 FROM ops WHERE run_id = ${o.runId} AND resolved_seq IS NOT NULL) END,
          ${o.now})
        ON CONFLICT (run_id, op_key) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, result = excluded.result,
          error = excluded.error, wake_at = excluded.wake_at, meta = excluded.meta,
          resolved_seq = COALESCE(ops.resolved_seq, excluded.resolved_seq), updated_at = excluded.updated_at`),
    numberUnseenOutcomes: (runId) =>
      later(db()`UPDATE ops SET resolved_seq = numbered.seq FROM (
          SELECT op_key, (SELECT COALESCE(MAX(resolved_seq), 0) FROM ops WHERE run_id = ${runId}) + ROW_NUMBER() OVER (ORDER BY updated_at, seq) AS seq
          FROM ops WHERE run_id = ${runId} AND status IN ('completed', 'failed') AND resolved_seq IS NULL
        ) AS numbered
        WHERE ops.run_id = ${runId} AND ops.op_key = numbered.op_key`),
    latestWaitingSignalOp: (runId, name) =>
      one(db().unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id = $1 AND kind = 'signal' AND name = $2 AND status = 'waiting' ORDER BY seq DESC LIMIT 1`, [runId, name])),
    firstWaitingOp: (runId, kind) =>
      one(db().unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id = $1 AND kind = $2 AND status = 'waiting' ORDER BY seq LIMIT 1`, [runId, kind])),
    closeOpenOps: (runId, status, now) => later(db().unsafe(`UPDATE ops SET status = $1, wake_at = NULL, updated_at = $2 WHERE run_id = $3 AND ${OPEN_OP}`, [status, now, runId])),
    closeOpenOpsWithPrefix: (runId, prefix, status, now) =>
      later(db().unsafe(`UPDATE ops SET status = $1, wake_at = NULL, updated_at = $2 WHERE run_id = $3 AND starts_with(op_key, $4) AND ${OPEN_OP}`, [status, now, runId, prefix])),
    // Each half from its own partial index (sleeps, the rest): one condition on both would read the whole table.
    dueTimers: (now, limit) =>
      all(db().unsafe(`(SELECT ${TIMER_COLUMNS} FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep' AND wake_at <= $1 ORDER BY wake_at, run_id, op_key LIMIT $2)
        UNION ALL (SELECT ${TIMER_COLUMNS} FROM ops WHERE wake_at IS NOT NULL AND kind <> 'sleep' AND wake_at <= $1 ORDER BY wake_at, run_id, op_key LIMIT $2)
        ORDER BY "wakeAt", "runId", "opKey" LIMIT $2`, [now, limit])),
    dueSleeps: (after, until, limit) =>
      all(db().unsafe(`SELECT ${TIMER_COLUMNS} FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep' AND wake_at > $1 AND wake_at <= $2 ORDER BY wake_at, run_id, op_key LIMIT $3`, [after, until, limit])),
    nextWakes: async () => {
      const row = await one<{ sleep: number | null; other: number | null }>(db()`SELECT
        (SELECT MIN(wake_at) FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep') AS sleep,
        LEAST((SELECT MIN(wake_at) FROM ops WHERE wake_at IS NOT NULL AND kind <> 'sleep'), (SELECT MIN(wake_at) FROM messages WHERE wake_at IS NOT NULL)) AS other`);
      return { sleep: row?.sleep ?? null, other: row?.other ?? null };
    },
    nextSleepAfter: async (after) => (await one<{ at: number | null }>(db()`SELECT MIN(wake_at) AS at FROM ops WHERE wake_at IS NOT NULL AND kind = 'sleep' AND wake_at > ${after}`))?.at ?? null,
    openOpCount: async (runId) => (await one<{ n: number }>(db()`SELECT COUNT(*)::int AS n FROM ops WHERE run_id = ${runId} AND status NOT IN ('completed', 'failed')`))!.n,

    appendEvent: (runId, type, body, at) =>
      later(db()`INSERT INTO events (run_id, seq, type, body, at)
        SELECT ${runId}, COALESCE(MAX(seq), 0) + 1, ${type}, ${body}, ${at} FROM events WHERE run_id = ${runId}`),
    listEvents: (runId, afterSeq = 0) => all(db()`SELECT run_id AS "runId", seq, type, body, at FROM events WHERE run_id = ${runId} AND seq > ${afterSeq} ORDER BY seq`),

    insertSignal: async (runId, name, payload, status, consumedBy, now) =>
      (await one<{ id: number }>(db()`INSERT INTO signals (run_id, name, payload, status, consumed_by, created_at)
        VALUES (${runId}, ${name}, ${payload}, ${status}, ${consumedBy}, ${now}) RETURNING id`))!.id,
    takeBufferedSignal: async (runId, name, consumedBy) => {
      const row = await one<{ id: number }>(
        db().unsafe(`SELECT ${SIGNAL_COLUMNS} FROM signals WHERE run_id = $1 AND name = $2 AND status = 'buffered' ORDER BY id LIMIT 1`, [runId, name]),
      );
      if (!row) return null;
      await db()`UPDATE signals SET status = 'consumed', consumed_by = ${consumedBy} WHERE id = ${row.id}`;
      return { ...(row as never as object), status: "consumed", consumedBy } as never;
    },
    listSignals: (runId) => all(db().unsafe(`SELECT ${SIGNAL_COLUMNS} FROM signals WHERE run_id = $1 ORDER BY id`, [runId])),

    listChildren: (parentId) => all(db().unsafe(`SELECT ${PG_RUN_COLUMNS} FROM runs WHERE parent_id = $1 ORDER BY created_at, id`, [parentId])),
    addRunWaiter: (targetId, waiterId, opKey, now) =>
      later(db()`INSERT INTO run_waiters (target_id, waiter_id, op_key, created_at) VALUES (${targetId}, ${waiterId}, ${opKey}, ${now}) ON CONFLICT DO NOTHING`),
    takeRunWaiters: async (targetId) =>
      [...(await db()`DELETE FROM run_waiters WHERE target_id = ${targetId} RETURNING waiter_id AS "waiterId", op_key AS "opKey", created_at`)]
        .sort((a, b) => a.created_at - b.created_at || (a.waiterId < b.waiterId ? -1 : a.waiterId > b.waiterId ? 1 : a.opKey < b.opKey ? -1 : a.opKey > b.opKey ? 1 : 0))
        .map(({ waiterId, opKey }) => ({ waiterId, opKey })),
    integrityCheck: async () => {
      await db()`SELECT 1`;
      return "ok";
    },
  };
}
