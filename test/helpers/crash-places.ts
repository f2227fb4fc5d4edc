/**
 * Where a kill test's children work: a folder of the test's own (the test removes it), the
 * database each child takes over from the one killed before it, and the marker file their
 * handlers append to (which the test watches to choose its moments).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveDatabase, STORE_UNDER_TEST, tempDatabase } from "./stores.ts";

export interface CrashPlaces {
  dir: string;
  dbPath: string;
  markerPath: string;
}

/** On SQLite the database is a file in the folder; under VILANO_TEST_STORE=postgres, a fresh database the children open in turn. */
export async function crashPlaces(prefix: string): Promise<CrashPlaces> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const dbPath = STORE_UNDER_TEST === "postgres" ? await resolveDatabase(tempDatabase()) : join(dir, "runtime.sqlite");
  if (dbPath === undefined) throw new Error("crashPlaces: no PostgreSQL database was made for the children");
  return { dir, dbPath, markerPath: join(dir, "marker.log") };
}
