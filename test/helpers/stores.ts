/**
 * Which store the runtime tests run against: SQLite by default; with VILANO_TEST_STORE=postgres
 * (scripts/test.sh runs the store-facing test files a second time so) each runtime gets a fresh
 * PostgreSQL database instead. The test files import `createRuntime` and `tempDatabase` from here
 * and stay the same for both.
 */
import { createRuntime as createEmbeddedRuntime, type RuntimeOptions } from "../../src/embedded/index.ts";
import { freshPostgresDatabase, hasPostgres } from "./postgres.ts";
import { tempDatabase as tempSqliteFile } from "./temp-dir.ts";

export const STORE_UNDER_TEST: "sqlite" | "postgres" = process.env.VILANO_TEST_STORE === "postgres" ? "postgres" : "sqlite";
if (STORE_UNDER_TEST === "postgres" && !hasPostgres) throw new Error("VILANO_TEST_STORE=postgres needs VILANO_TEST_DATABASE_URL (scripts/test.sh starts a server)");

const NAMED = "postgres-test:";
const databases = new Map<string, Promise<string>>();

/** A database that outlives one runtime (open it again with the same name): a SQLite file, or a PostgreSQL database. */
export function tempDatabase(): string {
  return STORE_UNDER_TEST === "postgres" ? `${NAMED}${crypto.randomUUID()}` : tempSqliteFile();
}

/** What a runtime opens: under PostgreSQL a name from `tempDatabase` (or none, or `:memory:`) becomes a fresh database. */
export async function resolveDatabase(database: string | undefined): Promise<string | undefined> {
  if (STORE_UNDER_TEST !== "postgres") return database;
  if (database !== undefined && database !== ":memory:" && !database.startsWith(NAMED)) return database;
  if (database === undefined || database === ":memory:") return freshPostgresDatabase();
  let url = databases.get(database);
  if (!url) databases.set(database, (url = freshPostgresDatabase()));
  return url;
}

export async function createRuntime(options: RuntimeOptions = {}): ReturnType<typeof createEmbeddedRuntime> {
  const database = await resolveDatabase(options.database);
  return createEmbeddedRuntime({ ...options, ...(database !== undefined ? { database } : {}) });
}
