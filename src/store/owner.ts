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

export interface DatabaseCheck {
  /** `ok`, or what `PRAGMA integrity_check` found. */
  integrity: string;
  /** The schema version the file has (0 for none yet). */
  schemaVersion: number;
}

/**
 * Checks a database without changing it: opened read-only, nothing migrated (`vilano doctor`
 * without `--fix` must not write). Throws when the file cannot be read as a database.
 */
export function checkDatabase(path: string): DatabaseCheck {
  const db = new Database(path, { readonly: true });
  try {
    db.run("PRAGMA busy_timeout = 1000");
    const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get()?.integrity_check ?? "no answer";
    const hasMeta = db.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get()!.n > 0;
    const row = hasMeta ? db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'schema_version'").get() : null;
    return { integrity, schemaVersion: row ? Number(row.value) : 0 };
  } finally {
    db.close();
  }
}
