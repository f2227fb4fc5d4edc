/**
 * Project snapshots in the database (`snapshot_files`), so a daemon on another machine can run a
 * project added through another daemon: the daemon that makes a snapshot stores its files once
 * (a snapshot is named by the hash of its content, so a stored one never changes), and a daemon
 * that lacks it makes it from them. Outside the kernel's batches: these rows are no run's state.
 */
import type { SQL } from "bun";
import type { SnapshotShelf } from "../boundary.ts";

export function pgShelf(sql: SQL): SnapshotShelf {
  return {
    async has(project, snapshotId) {
      const [row] = await sql`SELECT EXISTS (SELECT 1 FROM snapshot_files WHERE project = ${project} AND snapshot_id = ${snapshotId}) AS present`;
      return row.present as boolean;
    },
    async put(project, snapshotId, files) {
      // All the files or none: a half-stored snapshot would not hash to its name anywhere.
      // Sent together: one statement, prepared once, pipelined for every file.
      await sql.begin((tx) =>
        Promise.all(
          files.map(
            (file) => tx`INSERT INTO snapshot_files (project, snapshot_id, path, content)
              VALUES (${project}, ${snapshotId}, ${file.path}, decode(${Buffer.from(file.content).toString("base64")}, 'base64'))
              ON CONFLICT DO NOTHING`,
          ),
        ),
      );
    },
    async get(project, snapshotId) {
      const rows = await sql`SELECT path, encode(content, 'base64') AS content FROM snapshot_files
        WHERE project = ${project} AND snapshot_id = ${snapshotId} ORDER BY path`;
      if (rows.length === 0) return null;
      return [...rows].map((row) => ({ path: row.path as string, content: new Uint8Array(Buffer.from(row.content as string, "base64")) }));
    },
  };
}
