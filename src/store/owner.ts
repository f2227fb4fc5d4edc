/**
 * Who owns a database file, read without opening it for writing: the CLI asks this to tell a
 * daemon that is busy (or stopped) from a pid that was reused by an unrelated process.
 */
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";

/** The pid recorded as the database's owner, or null (no file, no owner, unreadable). */
export function readDatabaseOwner(path: string): number | null {
  if (!existsSync(path)) return null;
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true });
    db.run("PRAGMA busy_timeout = 1000");
    const row = db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'owner'").get();
    const owner = row ? (JSON.parse(row.value) as { pid?: unknown } | null) : null;
    return typeof owner?.pid === "number" ? owner.pid : null;
  } catch {
    return null;
  } finally {
    db?.close();
  }
}
