/**
 * Real PostgreSQL databases for tests: `scripts/test.sh` (and so `.ci/run`) starts a throwaway
 * server and names it in VILANO_TEST_DATABASE_URL. Each call makes a fresh database, a copy of a
 * migrated template (quick), dropped when the run ends (scripts/test.sh runs each file alone, so:
 * once the file's tests are done). Without the variable the PostgreSQL variants of the tests are
 * skipped, and say so.
 *
 * The drops are awaited, never made with the event loop blocked (a `spawnSync` of psql did): a
 * DROP DATABASE waits until every backend has taken note of it, and a backend busy sending this
 * process a notice (LISTEN) waits for this process to read it — a deadlock until the hook's timeout.
 */
import { SQL } from "bun";
import { createPostgresStore } from "../../src/store/index.ts";
import { atRunEnd } from "./cleanup.ts";

export const POSTGRES_URL = process.env.VILANO_TEST_DATABASE_URL ?? "";
export const hasPostgres = POSTGRES_URL !== "";
if (!hasPostgres) console.warn("VILANO_TEST_DATABASE_URL is not set: the PostgreSQL variants of the tests are skipped (scripts/test.sh starts a server)");

const TEMPLATE = `vilano_template_${process.pid}`;
let admin: SQL | undefined;
let template: Promise<void> | undefined;
let count = 0;

const urlFor = (database: string) => {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

/** A fresh, migrated PostgreSQL database for one runtime; its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  admin ??= new SQL(POSTGRES_URL, { max: 2 });
  template ??= (async () => {
    await admin!.unsafe(`CREATE DATABASE ${TEMPLATE}`);
    // Whoever runs the tests against a server of their own gets it back as it was.
    atRunEnd(async () => {
      await admin!.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      await admin!.close();
    });
    await (await createPostgresStore(urlFor(TEMPLATE), { maxConnections: 2 })).close();
  })().catch((error: unknown) => {
    template = undefined; // the next file tries again
    throw error;
  });
  await template;
  const name = `vilano_t_${process.pid}_${count++}`;
  await admin.unsafe(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  // Registered after the template's drop, so it runs before it (and before the admin connection closes).
  atRunEnd(async () => {
    await admin!.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
  return urlFor(name);
}
