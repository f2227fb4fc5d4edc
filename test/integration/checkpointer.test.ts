/**
 * The write-ahead log is checkpointed by a thread of its own (store/checkpointer.ts). Under writes
 * that never pause, it must still be started over once in a while, so the log stays bounded; and
 * closing the store folds the log back into the file.
 */
import { expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { startCheckpointer } from "../../src/store/checkpointer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

test("under writes that never pause the log stays bounded, and closing folds it back into the file", async () => {
  const path = join(tempDir(), "busy.db");
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  const checkpointer = startCheckpointer(db, path);
  const insert = db.query("INSERT INTO t (v) VALUES (randomblob(4000))");
  let largestLog = 0;
  // 120 MB of writes, a commit at a time, with only an event-loop turn between commits.
  for (let i = 0; i < 1_500; i++) {
    db.transaction(() => {
      for (let j = 0; j < 20; j++) insert.run();
    })();
    checkpointer.afterCommit(); // as the store does after each commit
    if (existsSync(`${path}-wal`)) largestLog = Math.max(largestLog, statSync(`${path}-wal`).size);
    await new Promise((resolve) => setImmediate(resolve));
  }
  checkpointer.close();
  db.close();
  // Started over past 16 MiB (the writer finishes the thread's checkpoint): never near the 120 MB written.
  expect(largestLog).toBeLessThan(64 * 1024 * 1024);
  expect(existsSync(`${path}-wal`)).toBe(false);
  const check = new Database(path, { readonly: true });
  expect(check.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM t").get()!.n).toBe(30_000);
  check.close();
}, 60_000);
