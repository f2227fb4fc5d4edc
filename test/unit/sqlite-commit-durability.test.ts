import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { createCommitDurability } from "../../src/store/sqlite-commit-durability.ts";
import { tempDir } from "../helpers/temp-dir.ts";

function walDatabase(synchronous: "FULL" | "NORMAL"): { db: Database; path: string } {
  const path = join(tempDir(), "d.sqlite");
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${synchronous}`);
  return { db, path };
}

const level = (db: Database) => db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()!.synchronous;

describe("createCommitDurability", () => {
  test("relaxes a FULL database to NORMAL for the next commit and back", () => {
    const { db, path } = walDatabase("FULL");
    const durability = createCommitDurability(db, path, "FULL");
    expect(level(db)).toBe(2);
    durability.waitForDisk(false);
    expect(level(db)).toBe(1);
    durability.waitForDisk(true);
    expect(level(db)).toBe(2);
    db.close();
  });

  test("leaves a database opened with NORMAL, and one in memory, as they are", () => {
    const { db, path } = walDatabase("NORMAL");
    createCommitDurability(db, path, "NORMAL").waitForDisk(true);
    expect(level(db)).toBe(1);
    db.close();
    const memory = new Database(":memory:");
    createCommitDurability(memory, ":memory:", "FULL").waitForDisk(false);
    expect(level(memory)).toBe(2);
    memory.close();
  });

  test("syncs the log that relaxed commits wrote, and a missing log is nothing to sync", () => {
    const { db, path } = walDatabase("FULL");
    const durability = createCommitDurability(db, path, "FULL");
    db.run("CREATE TABLE t (x)");
    durability.waitForDisk(false);
    db.run("INSERT INTO t VALUES (1)");
    durability.waitForDisk(true);
    expect(() => durability.syncLog()).not.toThrow();
    // Another connection sees the relaxed commit: it was committed, only its fsync was left for later.
    const other = new Database(path, { readonly: true });
    expect(other.query<{ n: number }, []>("SELECT count(*) AS n FROM t").get()!.n).toBe(1);
    other.close();
    db.close(); // the last connection checkpoints and removes the log
    expect(() => durability.syncLog()).not.toThrow();
  });
});
