/** Registered projects over PostgreSQL: the same methods as the SQLite store's (`project-queries.ts`), with the same results. */
import type { SQL } from "bun";
import type { ProjectStatements } from "../contract.ts";
import type { ProjectRow } from "../rows.ts";

const PROJECT_COLUMNS = `name, path, snapshot_id AS "snapshotId", snapshot_dir AS "snapshotDir", manifest,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

export function pgProjectStatements(db: () => SQL): ProjectStatements {
  const one = async <T>(rows: Promise<T[]>): Promise<T | null> => (await rows)[0] ?? null;
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    putProject: async (p, now) =>
      void (await db()`INSERT INTO projects (name, path, snapshot_id, snapshot_dir, manifest, created_at, updated_at)
        VALUES (${p.name}, ${p.path}, ${p.snapshotId}, ${p.snapshotDir}, ${p.manifest}, ${now}, ${now})
        ON CONFLICT (name) DO UPDATE SET path = excluded.path, snapshot_id = excluded.snapshot_id,
          snapshot_dir = excluded.snapshot_dir, manifest = excluded.manifest, updated_at = excluded.updated_at`),
    getProject: (name) => {
      const sql = db();
      return one<ProjectRow>(sql`SELECT ${sql.unsafe(PROJECT_COLUMNS)} FROM projects WHERE name = ${name}`);
    },
    // Names in byte order, as SQLite compares them (the column has the database's collation).
    listProjects: () => {
      const sql = db();
      return all<ProjectRow>(sql`SELECT ${sql.unsafe(PROJECT_COLUMNS)} FROM projects ORDER BY name COLLATE "C"`);
    },
    deleteProject: async (name) => (await db()`DELETE FROM projects WHERE name = ${name}`).count > 0,
    // Unfinished: live runs, and service instances between turns (idle ones stay on their snapshot too).
    liveRunsBySnapshot: async (project) => {
      const rows = await all<{ snapshotId: string; runs: number }>(db()`SELECT snapshot_id AS "snapshotId", COUNT(*)::int AS runs FROM runs
        WHERE status IN ('pending', 'running', 'waiting', 'active', 'idle') AND project = ${project} AND snapshot_id IS NOT NULL GROUP BY snapshot_id`);
      return new Map(rows.map((r) => [r.snapshotId, r.runs]));
    },
  };
}
