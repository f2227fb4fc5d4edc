/**
 * The store boundary every store implements (SQLite now, PostgreSQL next): asynchronous reads and
 * writes, and the writer's transactions. The kernel is the one writer of a daemon: it runs a batch
 * of commands in one `transaction`, each command in its own `savepoint`, and its commands call the
 * store's methods directly (they belong to the open transaction). Everything else reads through
 * `reads`, which sees committed state only.
 */
import type { SyncStore } from "./store.ts";

/** `T`'s methods, each answering with a promise. */
export type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : T[K] };

type Control = "begin" | "commit" | "rollback" | "savepoint" | "release" | "rollbackToSavepoint" | "inTransaction" | "path" | "schemaVersion" | "close";

/** The statements of a store, as methods that speak in rows. */
export type StoreOps = Async<Omit<SyncStore, Control>>;

export interface Store extends StoreOps {
  /** Where the database is (a file path, `:memory:`, or a connection URL without its password). */
  readonly path: string;
  readonly schemaVersion: number;
  /**
   * Runs `fn` in the writer's transaction: committed when it resolves (durably, before this
   * resolves), rolled back when it throws. One at a time: the kernel's commit queue is the caller.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** Inside a transaction: runs `fn` in a savepoint, rolled back alone when it throws. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether the writer's transaction is open. */
  readonly inTransaction: boolean;
  /** Reads from outside the writer's transaction: committed state only (they wait for an open one). */
  readonly reads: StoreOps;
  /**
   * Makes this process the database's writer, or refuses with `conflict` while another live
   * process is (SQLite: the owner's pid in `meta`; PostgreSQL: a session advisory lock).
   */
  claimWriter(): Promise<void>;
  /** Lets the next writer in (on close). */
  releaseWriter(): Promise<void>;
  close(): Promise<void>;
}
