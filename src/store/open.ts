/**
 * Opens a SQLite file with the settings the kernel relies on: a busy timeout first (so the other
 * pragmas never fail on a momentary lock), WAL, synchronous=FULL, foreign keys, a quick check,
 * and owner-only file modes (0600) for the database and its WAL/SHM side files.
 */
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { VilanoError } from "../shared/index.ts";

export type SynchronousMode = "FULL" | "NORMAL";

export interface OpenOptions {
  synchronous?: SynchronousMode;
  busyTimeoutMs?: number;
}

export function openDatabase(path: string, options: OpenOptions = {}): Database {
  const memory = path === ":memory:";
  if (!memory) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const previousUmask = process.umask(0o077);
  let db: Database;
  try {
    db = new Database(path, { create: true, strict: true });
    db.run(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!memory) db.run("PRAGMA journal_mode = WAL");
    db.run(`PRAGMA synchronous = ${options.synchronous ?? "FULL"}`);
    db.run("PRAGMA foreign_keys = ON");
  } catch (cause) {
    throw new VilanoError("storage_failed", `cannot open database ${path}: ${(cause as Error).message}`, { cause });
  } finally {
    process.umask(previousUmask);
  }
  if (!memory) {
    // Files that existed before (created elsewhere, or under another umask) are tightened too.
    for (const file of [path, `${path}-wal`, `${path}-shm`]) {
      if (existsSync(file)) chmodSync(file, 0o600);
    }
  }
  const check = db.query<{ quick_check: string }, []>("PRAGMA quick_check").get();
  if (check?.quick_check !== "ok") {
    db.close();
    throw new VilanoError("storage_failed", `database ${path} failed its quick check: ${check?.quick_check ?? "no answer"}`);
  }
  return db;
}
