/**
 * Relationships between runs (monitors, links), the exit events they queue for their owners, and
 * whether a run traps exits, over PostgreSQL: the same methods as the SQLite store's
 * (`relation-queries.ts`), with the same results.
 */
import type { SQL } from "bun";
import type { RelationStatements, RunStatements } from "../contract.ts";
import type { ExitEventRow, RelationshipRow } from "../rows.ts";

export const PG_RELATIONSHIP_COLUMNS = `target_id AS "targetId", owner_id AS "ownerId", kind, propagate, created_at AS "createdAt"`;
const EXIT_COLUMNS = `id, owner_id AS "ownerId", target_id AS "targetId", target_kind AS "targetKind", relationship, status, output, error, at,
  consumed_by AS "consumedBy"`;

export function pgRelationStatements(db: () => SQL): RelationStatements & Pick<RunStatements, "setTrapsExits"> {
  const one = async <T>(rows: Promise<T[]>): Promise<T | null> => (await rows)[0] ?? null;
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    addRelationship: async (ownerId, targetId, kind, propagate, now) =>
      (await db()`INSERT INTO relationships (target_id, owner_id, kind, propagate, created_at)
        VALUES (${targetId}, ${ownerId}, ${kind}, ${propagate}, ${now}) ON CONFLICT DO NOTHING`).count > 0,
    // `kind` in byte order, as SQLite compares it (the column has the database's collation).
    relationshipsTo: (targetId) => {
      const sql = db();
      return all<RelationshipRow>(
        sql`SELECT ${sql.unsafe(PG_RELATIONSHIP_COLUMNS)} FROM relationships WHERE target_id = ${targetId} ORDER BY created_at, owner_id, kind COLLATE "C"`,
      );
    },
    relationshipsOf: (ownerId) => {
      const sql = db();
      return all<RelationshipRow>(
        sql`SELECT ${sql.unsafe(PG_RELATIONSHIP_COLUMNS)} FROM relationships WHERE owner_id = ${ownerId} ORDER BY created_at, target_id, kind COLLATE "C"`,
      );
    },
    setTrapsExits: async (runId, traps) => void (await db()`UPDATE runs SET traps_exits = ${traps ? 1 : 0} WHERE id = ${runId}`),
    insertExitEvent: async (e) =>
      (await one<{ id: number }>(db()`INSERT INTO exit_events (owner_id, target_id, target_kind, relationship, status, output, error, at)
        VALUES (${e.ownerId}, ${e.targetId}, ${e.targetKind}, ${e.relationship}, ${e.status}, ${e.output}, ${e.error}, ${e.at}) RETURNING id`))!.id,
    takeExitEvent: async (ownerId, opKey) => {
      const sql = db();
      const row = await one<ExitEventRow>(
        sql`SELECT ${sql.unsafe(EXIT_COLUMNS)} FROM exit_events WHERE owner_id = ${ownerId} AND consumed_by IS NULL ORDER BY id LIMIT 1`,
      );
      if (!row) return null;
      await db()`UPDATE exit_events SET consumed_by = ${opKey} WHERE id = ${row.id}`;
      return { ...row, consumedBy: opKey };
    },
    listExitEvents: (ownerId) => {
      const sql = db();
      return all<ExitEventRow>(sql`SELECT ${sql.unsafe(EXIT_COLUMNS)} FROM exit_events WHERE owner_id = ${ownerId} ORDER BY id`);
    },
    // The key range SQLite takes (`prefixEnd`) is `starts_with` here.
    releaseExitEvents: async (ownerId, prefix) =>
      (await db()`UPDATE exit_events SET consumed_by = NULL WHERE owner_id = ${ownerId} AND starts_with(consumed_by, ${prefix})`).count,
  };
}
