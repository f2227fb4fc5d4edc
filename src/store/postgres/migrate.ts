/**
 * Brings a PostgreSQL database's schema up to date, once for however many daemons start at the
 * same moment: the migrations run under a transaction-scoped advisory lock, and each one with the
 * version it reached in `meta`. A database newer than this vilano is refused, as on SQLite.
 */
import type { SQL } from "bun";
import { VilanoError } from "../../shared/index.ts";
import { PG_LATEST_SCHEMA_VERSION, PG_MIGRATIONS } from "./schema.ts";

/** Any number, the same in every daemon: the lock that serialises migrations. */
const MIGRATION_LOCK = 0x76696c61; // "vila"

export async function pgMigrate(sql: SQL): Promise<number> {
  return (await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    const hasMeta = (await tx`SELECT to_regclass('meta') IS NOT NULL AS present`)[0].present as boolean;
    const current = hasMeta ? Number((await tx`SELECT value FROM meta WHERE key = 'schema_version'`)[0]?.value ?? 0) : 0;
    if (current > PG_LATEST_SCHEMA_VERSION) {
      throw new VilanoError(
        "schema_too_new",
        `the database has schema version ${current}, newer than this vilano knows (${PG_LATEST_SCHEMA_VERSION}): upgrade vilano`,
      );
    }
    for (const migration of PG_MIGRATIONS) {
      if (migration.version <= current) continue;
      await tx.unsafe(migration.sql);
      await tx`INSERT INTO meta (key, value) VALUES ('schema_version', ${String(migration.version)})
        ON CONFLICT (key) DO UPDATE SET value = excluded.value`;
    }
    return Math.max(current, PG_LATEST_SCHEMA_VERSION);
  })) as number;
}
