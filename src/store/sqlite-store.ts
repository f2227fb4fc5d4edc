/**
 * The SQLite store behind the asynchronous boundary. Its statements stay synchronous underneath
 * (bun:sqlite); each method answers with a promise already settled. A transaction never waits on
 * I/O, so it runs from BEGIN to COMMIT within one turn of the event loop; what can still run in
 * between is code woken by a settled promise, and that code reads through `reads`, which waits for
 * the commit: nobody outside the writer ever sees a write that might still roll back.
 */
import { VilanoError } from "../shared/index.ts";
import { isStorageFault, StorageFault } from "./faults.ts";
import type { Async, Store, StoreOps } from "./boundary.ts";
import { claimOwnership, releaseOwnership } from "./sqlite-ownership.ts";
import { STATEMENT_NAMES } from "./statement-effects.ts";
import { openSyncStore, type StoreOptions, type SyncStore } from "./store.ts";

/** What the synchronous handle has besides the contract's statements: its transaction's own statements, and the handle's. */
type SqliteControl = "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackToSavepoint" | "inTransaction" | "waitForDisk" | "syncLog" | "path" | "schemaVersion" | "close";

// Checked by the compiler: SQLite has every statement of the contract, each as the contract says
// once it answers with a promise (`Pick` refuses a name SQLite lacks); and everything SQLite has is
// a statement of the contract or control (a statement added here alone does not compile).
type SqliteStatements = Async<Pick<SyncStore, keyof StoreOps>>;
const sqliteKeepsTheContract: SqliteStatements extends StoreOps ? true : never = true;
const nothingBesideTheContract: [Exclude<keyof SyncStore, keyof StoreOps | SqliteControl>] extends [never] ? true : never = true;
void sqliteKeepsTheContract;
void nothingBesideTheContract;

type Statement = (...args: unknown[]) => unknown;

/** The most parameters a statement method takes (checked when the store opens). */
const MAX_ARITY = 8;

/**
 * A statement as an async method, with a fixed parameter list rather than a rest parameter: the
 * writer calls these several times for every step, and a rest parameter allocates an array each
 * time. Missing arguments pass as undefined, which is what leaving them out means to a default.
 */
function settled(statement: Statement): (...args: unknown[]) => Promise<unknown> {
  if (statement.length > MAX_ARITY) throw new Error(`a store method takes ${statement.length} parameters, more than ${MAX_ARITY}`);
  return async (a?: unknown, b?: unknown, c?: unknown, d?: unknown, e?: unknown, f?: unknown, g?: unknown, h?: unknown) => statement(a, b, c, d, e, f, g, h);
}

/** Opens (and migrates) the SQLite database at `path`, or `:memory:`. */
export function createStore(path: string, options: StoreOptions = {}): Store {
  return asyncStore(openSyncStore(path, options));
}

/** The store's own control statements fail only when the file or the machine does. */
function control(what: string, statement: () => void): void {
  try {
    statement();
  } catch (error) {
    throw new StorageFault(`${what} failed: ${(error as Error).message}`, { cause: error });
  }
}

function asyncStore(sync: SyncStore): Store {
  /** The writer's transaction while it is open: outside reads wait for it. */
  let open: Promise<void> | null = null;
  let closed = false;

  const methods = sync as unknown as Record<string, unknown>;
  const direct: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  const readers: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of STATEMENT_NAMES) {
    // The statements are closures over their prepared queries (no `this`): called as they are, not bound.
    const statement = methods[name] as Statement;
    direct[name] = settled(statement);
    readers[name] = async (...args) => {
      while (open) await open;
      return statement(...args);
    };
  }
  const reads = readers as unknown as StoreOps;

  const store: Store = {
    ...(direct as unknown as StoreOps),
    path: sync.path,
    schemaVersion: sync.schemaVersion,
    reads,
    get inTransaction() {
      return open !== null;
    },
    async transaction(fn, options) {
      if (closed) throw new VilanoError("runtime_closed", "the store is closed");
      if (open) throw new VilanoError("internal", "a transaction is already open: the store has one writer");
      let end!: () => void;
      open = new Promise<void>((resolve) => (end = resolve));
      const relaxed = options?.durable === false;
      try {
        // Every transaction sets its level before BEGIN (a no-op while it is already right), so a
        // durable commit never runs at a relaxed level left behind by a restore that failed.
        sync.waitForDisk(!relaxed);
        sync.begin();
        try {
          const value = await fn();
          sync.commit();
          return value;
        } catch (error) {
          try {
            sync.rollback();
          } catch {
            // The first error is the one to tell (a rollback fails only when the file did).
          }
          throw error;
        }
      } finally {
        try {
          // Between transactions again, where SQLite lets the level change: the next commit waits.
          // It cannot when a failed rollback left the transaction open; the next transaction sets
          // the level again before its BEGIN (or fails there), and this one's own error stands.
          if (relaxed) sync.waitForDisk(true);
        } catch {
          // See above: never at the cost of the store's one writer slot.
        }
        open = null;
        end();
      }
    },
    async syncLog() {
      sync.syncLog();
    },
    async savepoint(fn) {
      control("SAVEPOINT", () => sync.savepoint());
      let value: Awaited<ReturnType<typeof fn>>;
      try {
        value = await fn();
      } catch (error) {
        try {
          sync.rollbackToSavepoint();
        } catch (rollbackError) {
          // A fault of the file may leave no savepoint to go back to: then that first fault is what
          // counts. Otherwise the command's writes could not be undone, and the batch must fail.
          if (isStorageFault(error)) throw error;
          throw new StorageFault(`a failed command could not be rolled back: ${(rollbackError as Error).message}`, { cause: rollbackError });
        }
        throw error;
      }
      control("RELEASE", () => sync.release());
      return value;
    },
    claimWriter: () => claimOwnership(store),
    releaseWriter: () => releaseOwnership(store),
    async close() {
      if (closed) return;
      while (open) await open;
      closed = true;
      sync.close();
    },
  };
  return store;
}
