/**
 * Service instances and their inboxes over PostgreSQL: the same methods as the SQLite store's
 * (`inbox-queries.ts`, where the message statuses are described), with the same results.
 */
import type { SQL } from "bun";
import type { InstanceStatements, MessageStatements } from "../contract.ts";
import type { Later } from "./core-statements.ts";
import type { InboxCounts, MessageRow } from "../rows.ts";

export const PG_MESSAGE_COLUMNS = `id, service_run_id AS "serviceRunId", kind, name, payload, status, attempt,
  sender_run_id AS "senderRunId", sender_op_key AS "senderOpKey", wake_at AS "wakeAt", reply, error,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export function pgInboxStatements(db: () => SQL, later: Later): InstanceStatements & MessageStatements {
  const one = async <T>(rows: Promise<T[]>): Promise<T | null> => (await rows)[0] ?? null;
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    insertInstance: async (i) =>
      void (await db()`INSERT INTO runs (id, kind, project, snapshot_id, name, status, service_key, key_input, created_at, updated_at)
        VALUES (${i.id}, 'service', ${i.project}, ${i.snapshotId}, ${i.name}, ${i.status}, ${i.serviceKey}, ${i.keyInput}, ${i.now}, ${i.now})`),
    setState: async (runId, state, now) => void (await db()`UPDATE runs SET state = ${state}, updated_at = ${now} WHERE id = ${runId}`),
    insertMessage: async (m) =>
      (await one<{ id: number }>(db()`INSERT INTO messages (service_run_id, kind, name, payload, status, sender_run_id, sender_op_key, created_at, updated_at)
        VALUES (${m.serviceRunId}, ${m.kind}, ${m.name}, ${m.payload}, 'queued', ${m.senderRunId}, ${m.senderOpKey}, ${m.now}, ${m.now}) RETURNING id`))!.id,
    getMessage: (id) => {
      const sql = db();
      return one<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE id = ${id}`);
    },
    activeMessage: (serviceRunId) => {
      const sql = db();
      return one<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE service_run_id = ${serviceRunId} AND status = 'active' ORDER BY id LIMIT 1`);
    },
    nextReadyMessage: (serviceRunId) => {
      const sql = db();
      return one<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE service_run_id = ${serviceRunId} AND status = 'queued' ORDER BY id LIMIT 1`);
    },
    // Nobody needs its answer: inside a transaction it is pipelined (see `Later`).
    updateMessage: (id, u, now) =>
      later(db()`UPDATE messages SET status = ${u.status}, attempt = COALESCE(${u.attempt ?? null}::integer, attempt), wake_at = ${u.wakeAt ?? null},
        reply = ${u.reply ?? null}, error = ${u.error ?? null}, updated_at = ${now} WHERE id = ${id}`),
    inboxCounts: async (serviceRunId) =>
      (await one<InboxCounts>(db()`SELECT COUNT(*)::int AS total,
              COUNT(*) FILTER (WHERE status = 'queued')::int AS ready,
              COUNT(*) FILTER (WHERE status = 'deferred')::int AS deferred,
              COUNT(*) FILTER (WHERE kind = 'ask')::int AS asks,
              COUNT(*) FILTER (WHERE kind = 'send')::int AS sends,
              COUNT(*) FILTER (WHERE kind = 'signal')::int AS signals,
              MIN(created_at) AS "oldestAt",
              MIN(wake_at) AS "nextWakeAt"
       FROM messages WHERE service_run_id = ${serviceRunId} AND status IN ('queued', 'deferred')`))!,
    listMessages: async (serviceRunId, limit) => {
      const sql = db();
      return (await all<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE service_run_id = ${serviceRunId} ORDER BY id DESC LIMIT ${limit}`)).reverse();
    },
    openMessages: (serviceRunId) => {
      const sql = db();
      return all<MessageRow>(
        sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE service_run_id = ${serviceRunId} AND status IN ('queued', 'deferred', 'active') ORDER BY id`,
      );
    },
    openOutbound: (senderRunId) => {
      const sql = db();
      return all<MessageRow>(
        sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE sender_run_id = ${senderRunId} AND kind = 'ask' AND status IN ('queued', 'deferred', 'active') ORDER BY id`,
      );
    },
    // The key range SQLite takes (`prefixEnd`) is `starts_with` here.
    openOutboundWithPrefix: (senderRunId, prefix, _prefixEnd) => {
      const sql = db();
      return all<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE sender_run_id = ${senderRunId} AND kind = 'ask'
        AND status IN ('queued', 'deferred', 'active') AND starts_with(sender_op_key, ${prefix}) ORDER BY id`);
    },
    // Ties in id order, as SQLite reads them from its index on wake_at (which ends with the rowid).
    dueMessages: (now, limit) => {
      const sql = db();
      return all<MessageRow>(sql`SELECT ${sql.unsafe(PG_MESSAGE_COLUMNS)} FROM messages WHERE wake_at IS NOT NULL AND wake_at <= ${now} ORDER BY wake_at, id LIMIT ${limit}`);
    },
  };
}
