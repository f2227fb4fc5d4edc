/**
 * Checkpoints the write-ahead log from a thread of its own. SQLite's automatic checkpoint runs
 * inside the commit that crosses its threshold, on the thread that commits: on a big database
 * file that commit took over 100 ms (measured: W1's p99 six times higher on 1,000,000 runs), and
 * every activation waited on it. So the store's own connection never checkpoints; a worker thread
 * with a connection of its own runs PASSIVE checkpoints (they never block the writer) every
 * `intervalMs`. Under steady writes a PASSIVE checkpoint never quite catches up, and SQLite starts
 * the log over only once one has: so when the log holds more than `RESTART_FRAMES`, the thread
 * raises a flag, and the writer itself — right after its next commit, when it holds no
 * transaction — runs a PASSIVE checkpoint that copies the few frames the thread's left (a short
 * stall, not the long one); its next transaction then starts the log over, and
 * `journal_size_limit` trims the file.
 *
 * The thread's code is a string run from a Blob URL: it needs only `bun:sqlite`, and so it works
 * the same from source and inside the compiled executable.
 */
import { Database } from "bun:sqlite";

/** About 16 MiB of log (4 KiB pages) before the log is started over. */
const RESTART_FRAMES = 4_096;
/** The size the log file is trimmed back to once it starts over. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db = null;
let timer = null;
self.onmessage = ({ data }) => {
  if (data.t === "open") {
    db = new Database(data.path, { readwrite: true, create: false });
    db.run("PRAGMA busy_timeout = 1000");
    db.run("PRAGMA journal_size_limit = " + data.journalSizeLimit);
    timer = setInterval(() => {
      try {
        const done = db.query("PRAGMA wal_checkpoint(PASSIVE)").get();
        if (done && done.log >= data.restartFrames) Atomics.store(data.flag, 0, 1);
      } catch {
        // A busy or failing checkpoint is tried again next time; the log only grows meanwhile.
      }
    }, data.intervalMs);
  } else if (data.t === "close") {
    clearInterval(timer);
    try {
      db?.close();
    } finally {
      Atomics.store(data.done, 0, 1);
      Atomics.notify(data.done, 0);
    }
  }
};
`;

let workerUrl: string | undefined;

export interface Checkpointer {
  /** Call after each commit: finishes a checkpoint the thread could not, when the log has grown long. */
  afterCommit(): void;
  /** Stops the thread and closes its connection (waits up to a second for a checkpoint under way). */
  close(): void;
}

/** Turns the automatic checkpoint of `db` off and checkpoints `path` from a worker thread instead. */
export function startCheckpointer(db: Database, path: string, intervalMs = 100): Checkpointer {
  workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  const worker = new Worker(workerUrl);
  // Not a reason to keep the process alive: the store's owner closes it.
  worker.unref();
  db.run("PRAGMA wal_autocheckpoint = 0");
  db.run(`PRAGMA journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  const flag = new Int32Array(new SharedArrayBuffer(4));
  worker.postMessage({ t: "open", path, intervalMs, restartFrames: RESTART_FRAMES, journalSizeLimit: JOURNAL_SIZE_LIMIT, flag });
  const catchUp = db.query("PRAGMA wal_checkpoint(PASSIVE)");
  let closed = false;
  return {
    afterCommit() {
      if (Atomics.load(flag, 0) === 0) return;
      Atomics.store(flag, 0, 0);
      try {
        catchUp.get();
      } catch {
        // Tried again when the thread raises the flag next time.
      }
    },
    close() {
      if (closed) return;
      closed = true;
      // The store closes synchronously: wait here until the thread has closed its connection, so
      // that the store's own close is the last one and folds the log back into the file.
      const done = new Int32Array(new SharedArrayBuffer(4));
      worker.postMessage({ t: "close", done });
      Atomics.wait(done, 0, 0, 1_000);
      void worker.terminate();
    },
  };
}
