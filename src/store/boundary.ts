/**
 * The store boundary every store implements (SQLite now, PostgreSQL next): asynchronous reads and
 * writes, and the writer's transactions. The kernel is the one writer of a daemon: it runs a batch
 * of commands in one `transaction`, each command in its own `savepoint`, and its commands call the
 * store's methods directly (they belong to the open transaction). Everything else reads through
 * `reads`, which sees committed state only.
 */
import type { StoreOps } from "./contract.ts";

/** The statements of a store, declared once, grouped by table (`contract.ts`); their effects in `statement-effects.ts`. */
export type { StoreOps };

/** `T`'s methods, each answering with a promise. */
export type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : T[K] };

export interface Store extends StoreOps {
  /** Where the database is (a file path, `:memory:`, or a connection URL without its password). */
  readonly path: string;
  readonly schemaVersion: number;
  /**
   * Runs `fn` in the writer's transaction: committed when it resolves (durably, before this
   * resolves, unless `options.durable` is false), rolled back when it throws. One at a time: the kernel's commit queue is the caller.
   * It may throw `RetryCarefully` (PostgreSQL): run the batch again with `careful`.
   */
  transaction<T>(fn: () => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Inside a transaction: reads these runs (and ops) at once, for the reads of them that follow
   * (PostgreSQL, where each read is a round trip; absent on SQLite).
   */
  prefetch?(hints: readonly PrefetchHint[]): Promise<void>;
  /** Inside a transaction: runs `fn` in a savepoint, rolled back alone when it throws. */
  savepoint<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether the writer's transaction is open. */
  readonly inTransaction: boolean;
  /**
   * Makes every commit so far durable, those made with `durable: false` too (SQLite: an fsync of
   * the write-ahead log). Absent where every commit is durable already.
   */
  syncLog?(): Promise<void>;
  /** Reads from outside the writer's transaction: committed state only (they wait for an open one). */
  readonly reads: StoreOps;
  /**
   * Makes this process a writer of the database. SQLite: the only one (the owner's pid in `meta`;
   * `conflict` while another live process is). PostgreSQL: a member among the daemons sharing it.
   */
  claimWriter(): Promise<void>;
  /** Lets the next writer in, or leaves the members (on close). */
  releaseWriter(): Promise<void>;
  /** Present when several daemons may share the database (PostgreSQL); absent on SQLite. */
  readonly cluster?: Cluster;
  /** Project snapshots kept in the database, for daemons on other machines (PostgreSQL). */
  readonly shelf?: SnapshotShelf;
  /** Whether the database server can be reached now (PostgreSQL; a SQLite file is always there). */
  readonly availability?: DatabaseAvailability;
  close(): Promise<void>;
}

/** Reachable, or away since when, why, and when the store tries again. */
export type DatabaseState = { available: true } | { available: false; since: number; message: string; retryAfterSeconds: number };

export interface DatabaseAvailability {
  current(): DatabaseState;
  /** Hears each change (lost, back); returns the way to stop hearing. */
  onChange(listener: (state: DatabaseState) => void): () => void;
}

/** A daemon sharing the database, as `daemon status` lists it. */
export interface DaemonRow {
  id: string;
  host: string;
  pid: number;
  version: string;
  startedAt: number;
  /** Its last heartbeat, by the database's clock (milliseconds since the epoch). */
  heartbeatAt: number;
  /** How long ago that was, by the database's clock. */
  silentMs: number;
}

/**
 * What a daemon's commit tells the other daemons (delivered on commit, never for a rollback):
 * which runs got new events, which ended, which external asks finished, and whether runs became
 * pending that anyone may claim. Each daemon checks the database before acting on it.
 */
export interface ClusterNotice {
  from: string;
  touched?: string[];
  ended?: string[];
  /** Runs whose lease was undone without ending them (a cancelled service turn): an activation holding an older lease stops. */
  aborted?: string[];
  messages?: number[];
  /** Runs became pending and no daemon leased them. */
  pending?: boolean;
  /** The sender stopped: its leases are orphaned now. */
  left?: boolean;
}

/**
 * Several daemons on one database. Each is a member with a heartbeat; a run's lease belongs to the
 * member that took it (`RunRow.owner`) and lasts while that member's heartbeat is younger than the
 * lease's time to live. The writers' transactions are serialized by the store (one batch at a
 * time across daemons); claims of pending work are not, and skip rows another claim holds.
 */
export interface Cluster {
  /** This daemon's id among the members (new for every process). */
  readonly daemonId: string;
  /** Renews this daemon's leases; false when the others had counted it dead (it is a member again now). */
  heartbeat(): Promise<boolean>;
  /** Every member, this one included, oldest first. */
  members(): Promise<DaemonRow[]>;
  /** Members counted dead: silent for longer than `ttlMs`, or a process of this machine that is gone (`gone`). */
  deadMembers(ttlMs: number): Promise<DeadMember[]>;
  /**
   * Inside the writer's transaction: drops those members that are still dead (a silent one that
   * beat again since stays), hands back the pending runs they had claimed, and answers the runs
   * leased by no member (theirs, and any from before).
   */
  removeMembers(dead: readonly DeadMember[], ttlMs: number): Promise<string[]>;
  /**
   * A cheap look, outside any transaction: whether some run is leased by no member; the runs this
   * daemon claimed that are still pending; the runs it holds leases on, with their fences.
   */
  strays(): Promise<{ orphaned: boolean; claimed: string[]; leased: { id: string; fence: number }[] }>;
  /** Inside the writer's transaction: the runs this daemon holds leases on. */
  ownLeases(): Promise<string[]>;
  /** Claims up to `limit` pending runs nobody has claimed (`FOR UPDATE SKIP LOCKED`), none of `except`; their ids. */
  claimPending(limit: number, except?: readonly string[]): Promise<string[]>;
  /** Gives back a claim this daemon cannot run (its code cannot be loaded here). */
  unclaim(runId: string): Promise<void>;
  /** Inside the writer's transaction: told to every other daemon when it commits. */
  announce(notice: Omit<ClusterNotice, "from">): Promise<void>;
  /**
   * Hears the other daemons' notices until the store closes. `onResubscribed` runs after the
   * listening connection was lost and made again: notices sent meanwhile are lost.
   */
  listen(onNotice: (notice: ClusterNotice) => void, onResubscribed: () => void): Promise<void>;
}

export interface TransactionOptions {
  /** Every command's writes are answered before the next one starts (slower; after `RetryCarefully`). */
  careful?: boolean;
  /** The runs (and ops) the batch's commands will read, for a store that can fetch them at once. */
  prefetch?: readonly PrefetchHint[];
  /**
   * `false`: the commit need not wait for the disk, because nobody outside the process hears of it
   * before a later commit that does (or `syncLog`), which makes it durable too. A store that cannot
   * tell the two apart (PostgreSQL here) commits durably anyway.
   */
  durable?: boolean;
}

export interface PrefetchHint {
  runId: string;
  opKey?: string;
  /** The command may end the run: what an end reads (its open asks, its waiters, who is linked to it) too. */
  ending?: boolean;
  /** The command may lease the run: its whole op list (its history) too, for a workflow (a service turn reads only its own ops). */
  leasing?: boolean;
}

/** A snapshot's files, stored once by the daemon that made it (content-addressed: never changed). */
export interface SnapshotShelf {
  has(project: string, snapshotId: string): Promise<boolean>;
  put(project: string, snapshotId: string, files: readonly { path: string; content: Uint8Array }[]): Promise<void>;
  /** Null when no daemon stored it. */
  get(project: string, snapshotId: string): Promise<{ path: string; content: Uint8Array }[] | null>;
}

export interface DeadMember {
  id: string;
  /** Its process on this machine is gone (rather than silent): it cannot come back. */
  gone: boolean;
}
