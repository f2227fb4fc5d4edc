/** Registered projects: name, source path, current snapshot and manifest. */
import type { Database } from "bun:sqlite";
import type { ProjectRow } from "./rows.ts";

const PROJECT_COLUMNS = `name, path, snapshot_id AS snapshotId, snapshot_dir AS snapshotDir, manifest,
  created_at AS createdAt, updated_at AS updatedAt`;

export interface ProjectQueries {
  putProject(project: Omit<ProjectRow, "createdAt" | "updatedAt">, now: number): void;
  getProject(name: string): ProjectRow | null;
  listProjects(): ProjectRow[];
  deleteProject(name: string): boolean;
  /** How many of the project's runs and service instances are not finished, by the snapshot they are pinned to. */
  liveRunsBySnapshot(project: string): Map<string, number>;
}

export function createProjectQueries(db: Database): ProjectQueries {
  const q = {
    put: db.query(
      `INSERT INTO projects (name, path, snapshot_id, snapshot_dir, manifest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET path = excluded.path, snapshot_id = excluded.snapshot_id,
         snapshot_dir = excluded.snapshot_dir, manifest = excluded.manifest, updated_at = excluded.updated_at`,
    ),
    get: db.query<ProjectRow, [string]>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE name = +?`),
    list: db.query<ProjectRow, []>(`SELECT ${PROJECT_COLUMNS} FROM projects ORDER BY name`),
    remove: db.query("DELETE FROM projects WHERE name = +?"),
    // Unfinished: live runs, and service instances between turns (idle ones stay on their snapshot
    // too). Read through the status index (`+project` keeps the planner off the project's, which
    // would visit every run the project ever had), so finished runs are never visited.
    liveBySnapshot: db.query<{ snapshotId: string; runs: number }, [string]>(
      `SELECT snapshot_id AS snapshotId, COUNT(*) AS runs FROM runs
       WHERE status IN ('pending', 'running', 'waiting', 'active', 'idle') AND +project = ? AND snapshot_id IS NOT NULL GROUP BY snapshot_id`,
    ),
  };
  return {
    putProject: (p, now) => void q.put.run(p.name, p.path, p.snapshotId, p.snapshotDir, p.manifest, now, now),
    getProject: (name) => q.get.get(name),
    listProjects: () => q.list.all(),
    deleteProject: (name) => q.remove.run(name).changes > 0,
    liveRunsBySnapshot: (project) => new Map(q.liveBySnapshot.all(project).map((r) => [r.snapshotId, r.runs])),
  };
}
