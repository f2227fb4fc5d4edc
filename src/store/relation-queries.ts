/**
 * Relationships between runs (monitors, links), the exit events they queue for their owners, and
 * whether a run traps exits. WHERE parameters are `+?` for the reason given in store.ts.
 */
import type { Database } from "bun:sqlite";
import type { ExitEventRow, RelationshipKind, RelationshipRow } from "./rows.ts";
import { prefixEnd } from "./prefix.ts";

const RELATIONSHIP_COLUMNS = "target_id AS targetId, owner_id AS ownerId, kind, propagate, created_at AS createdAt";
const EXIT_COLUMNS = `id, owner_id AS ownerId, target_id AS targetId, target_kind AS targetKind, relationship, status, output, error, at,
  consumed_by AS consumedBy`;

export type NewExitEvent = Omit<ExitEventRow, "id" | "consumedBy">;

export interface RelationQueries {
  /** Adds `owner`'s relationship to `target`; false when it already existed (the first one stands). */
  addRelationship(ownerId: string, targetId: string, kind: RelationshipKind, propagate: "abnormal" | "all", now: number): boolean;
  /** Who hears of `targetId`'s end. */
  relationshipsTo(targetId: string): RelationshipRow[];
  /** The relationships `ownerId` holds. */
  relationshipsOf(ownerId: string): RelationshipRow[];
  setTrapsExits(runId: string, traps: boolean): void;
  insertExitEvent(event: NewExitEvent): number;
  /** The oldest exit event of `ownerId` no `nextExit` has taken, now taken by `opKey`. */
  takeExitEvent(ownerId: string, opKey: string): ExitEventRow | null;
  listExitEvents(ownerId: string): ExitEventRow[];
  /** Puts back the exit events taken by ops whose keys start with `prefix` (a service turn attempt that goes again). */
  releaseExitEvents(ownerId: string, prefix: string): number;
}

export function createRelationQueries(db: Database): RelationQueries {
  const q = {
    add: db.query("INSERT OR IGNORE INTO relationships (target_id, owner_id, kind, propagate, created_at) VALUES (?, ?, ?, ?, ?)"),
    to: db.query<RelationshipRow, [string]>(`SELECT ${RELATIONSHIP_COLUMNS} FROM relationships WHERE target_id = +? ORDER BY created_at, owner_id, kind`),
    of: db.query<RelationshipRow, [string]>(`SELECT ${RELATIONSHIP_COLUMNS} FROM relationships WHERE owner_id = +? ORDER BY created_at, target_id, kind`),
    trap: db.query("UPDATE runs SET traps_exits = ? WHERE id = +?"),
    insertExit: db.query<{ id: number }, [string, string, string, string, string, string | null, string | null, number]>(
      `INSERT INTO exit_events (owner_id, target_id, target_kind, relationship, status, output, error, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    firstExit: db.query<ExitEventRow, [string]>(`SELECT ${EXIT_COLUMNS} FROM exit_events WHERE owner_id = +? AND consumed_by IS NULL ORDER BY id LIMIT 1`),
    consumeExit: db.query("UPDATE exit_events SET consumed_by = ? WHERE id = +?"),
    listExits: db.query<ExitEventRow, [string]>(`SELECT ${EXIT_COLUMNS} FROM exit_events WHERE owner_id = +? ORDER BY id`),
    release: db.query("UPDATE exit_events SET consumed_by = NULL WHERE owner_id = +? AND consumed_by >= +? AND consumed_by < +?"),
  };
  return {
    addRelationship: (ownerId, targetId, kind, propagate, now) => q.add.run(targetId, ownerId, kind, propagate, now).changes > 0,
    relationshipsTo: (targetId) => q.to.all(targetId),
    relationshipsOf: (ownerId) => q.of.all(ownerId),
    setTrapsExits: (runId, traps) => void q.trap.run(traps ? 1 : 0, runId),
    insertExitEvent: (e) => q.insertExit.get(e.ownerId, e.targetId, e.targetKind, e.relationship, e.status, e.output, e.error, e.at)!.id,
    takeExitEvent: (ownerId, opKey) => {
      const row = q.firstExit.get(ownerId);
      if (!row) return null;
      q.consumeExit.run(opKey, row.id);
      return { ...row, consumedBy: opKey };
    },
    listExitEvents: (ownerId) => q.listExits.all(ownerId),
    releaseExitEvents: (ownerId, prefix) => q.release.run(ownerId, prefix, prefixEnd(prefix)).changes,
  };
}
