/**
 * Commits that need not wait for the disk (SQLite in WAL mode). A commit made with
 * `synchronous = NORMAL` writes its frames to the write-ahead log without an fsync; the next commit
 * made with `FULL` fsyncs the log, and with it every frame before its own, so what the relaxed commit
 * wrote becomes durable with it. The kernel relaxes only commits whose outcome nobody outside the
 * process hears of before such a later commit (an ask's message: its reply comes with a durable
 * commit), and `syncLog` fsyncs the log when something must be durable without a commit to carry it.
 *
 * A process that is killed loses nothing either way (the frames are in the operating system's
 * cache); only a crash of the machine could take back a relaxed commit nobody was told of.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fsyncSync, openSync } from "node:fs";

export interface CommitDurability {
  /** Before BEGIN: whether the next COMMIT waits for the disk (restored to `true` after it). */
  waitForDisk(waits: boolean): void;
  /** Makes every commit so far durable: an fsync of the write-ahead log. */
  syncLog(): void;
}

/** `synchronous`: the mode the database was opened with; only FULL has a wait to spare. */
export function createCommitDurability(db: Database, path: string, synchronous: string): CommitDurability {
  const relaxable = path !== ":memory:" && synchronous.toUpperCase() === "FULL";
  if (!relaxable) return { waitForDisk() {}, syncLog() {} };
  let waiting = true;
  return {
    waitForDisk(waits) {
      if (waits === waiting) return;
      // SQLite refuses to change the level inside a transaction: the caller is between two. Not a
      // prepared statement: SQLite sets this pragma while preparing it, so running one prepared
      // earlier may leave the level that the last preparation set (measured: its first run did).
      db.run(waits ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
      waiting = waits;
    },
    syncLog() {
      let fd: number;
      try {
        fd = openSync(`${path}-wal`, "r");
      } catch (error) {
        // No log: everything is in the database file, which a checkpoint synced before the log went.
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      try {
        // fsync is per file, not per descriptor: it flushes the frames the writer's connection wrote.
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
