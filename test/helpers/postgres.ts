/**
 * Real PostgreSQL databases for tests: `scripts/test.sh` (and so `.ci/run`) starts a throwaway
 * server and names it in VILANO_TEST_DATABASE_URL. Each call makes a fresh database, a copy of a
 * migrated template (quick). Without the variable the PostgreSQL variants of the tests are
 * skipped, and say so.
 *
 * On the throwaway server (VILANO_TEST_DATABASE_THROWAWAY=1, set by scripts/ensure-postgres.sh)
 * nothing is dropped: the server and its folder go when the run ends. A DROP DATABASE costs
 * about 2 s on a loaded machine (measured here: 20 empty copies in 38 s), and a file that opens
 * fifty runtimes spent longer dropping their databases than its cleanup may take. On a server of
 * one's own, whoever runs the tests gets it back as it was: the copies and the template are
 * dropped when the run ends (scripts/test.sh runs each file alone, so: after each file), a few at
 * a time, awaited (never with the event loop blocked, as a `spawnSync` of psql did).
 */
import { SQL } from "bun";
import { createPostgresStore } from "../../src/store/index.ts";
import { atRunEnd } from "./cleanup.ts";

export const POSTGRES_URL = process.env.VILANO_TEST_DATABASE_URL ?? "";
export const hasPostgres = POSTGRES_URL !== "";
if (!hasPostgres) console.warn("VILANO_TEST_DATABASE_URL is not set: the PostgreSQL variants of the tests are skipped (scripts/test.sh starts a server)");
const THROWAWAY = process.env.VILANO_TEST_DATABASE_THROWAWAY === "1";

const TEMPLATE = `vilano_template_${process.pid}`;
let admin: SQL | undefined;
let template: Promise<void> | undefined;
let count = 0;
/** The copies made, to drop when the run ends (on a server of one's own). */
const copies: string[] = [];

const urlFor = (database: string) => {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

/** A fresh, migrated PostgreSQL database for one runtime; its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  admin ??= new SQL(POSTGRES_URL, { max: 4 });
  template ??= (async () => {
    await admin!.unsafe(`CREATE DATABASE ${TEMPLATE}`);
    atRunEnd(async () => {
      if (!THROWAWAY) {
        // The pool's four connections drop four at a time; the template once no copy is left.
        await Promise.all(copies.map((name) => admin!.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)));
        await admin!.unsafe(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`);
      }
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
  copies.push(name);
  return urlFor(name);
}
