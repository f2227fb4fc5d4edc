import type { Database } from "bun:sqlite";
import { VilanoError } from "../shared/index.ts";
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from "./migrations.ts";

/** Brings the schema up to date inside one transaction; refuses a database newer than the code. */
export function migrate(db: Database): number {
  // The version is read inside the write transaction, so two processes opening a new database at
  // once cannot both migrate it.
  db.run("BEGIN IMMEDIATE");
  try {
    db.run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const version = applyMigrations(db);
    db.run("COMMIT");
    return version;
  } catch (error) {
    if (db.inTransaction) db.run("ROLLBACK");
    throw error;
  }
}

function applyMigrations(db: Database): number {
  const row = db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'schema_version'").get();
  const current = row ? Number(row.value) : 0;
  if (current > LATEST_SCHEMA_VERSION) {
    throw new VilanoError(
      "schema_too_new",
      `the database has schema version ${current}, but this build of Vilano knows only up to ${LATEST_SCHEMA_VERSION}; upgrade vilano`,
      { details: { databaseVersion: current, supportedVersion: LATEST_SCHEMA_VERSION } },
    );
  }
  if (current === LATEST_SCHEMA_VERSION) return current;
  for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.run(m.sql);
      db.run(
        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [String(m.version)],
      );
      db.run("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [
        `migration_${m.version}`,
        `${new Date().toISOString()} ${m.description}`,
      ]);
  }
  return LATEST_SCHEMA_VERSION;
}
