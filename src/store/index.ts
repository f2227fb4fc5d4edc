/** The stores behind one asynchronous boundary; the SQLite store is the only importer of bun:sqlite. */
export { openSyncStore, prefixEnd, type StoreOptions, type DueTimer, type SyncStore } from "./store.ts";
export { createStore } from "./sqlite-store.ts";
export { createPostgresStore, redactUrl } from "./postgres/pg-store.ts";
export { dropOrphanedCancels } from "./postgres/orphaned-cancels.ts";
export { openStore, isPostgresUrl } from "./open-store.ts";
export type { Async, Cluster, ClusterNotice, DaemonRow, DatabaseAvailability, DatabaseState, DeadMember, PrefetchHint, SnapshotShelf, Store, StoreOps, TransactionOptions } from "./boundary.ts";
export { isStorageFault, RetryCarefully, StorageFault } from "./faults.ts";
export type { RunRow, OpRow, EventRow, SignalRow, NewRun, OpWrite, RunListFilter, MessageRow, NewMessage, NewInstance, InboxCounts, ProjectRow, RelationshipRow, RelationshipKind, ExitEventRow, SupervisorRow, MemberRow, SupervisionStrategy, SubscriptionRow } from "./rows.ts";
export type { MessageUpdate } from "./inbox-queries.ts";
export { LATEST_SCHEMA_VERSION } from "./migrations.ts";
export type { SynchronousMode } from "./open.ts";
export { checkDatabase, readDatabaseOwner, type DatabaseCheck } from "./owner.ts";
export type { ProjectQueries } from "./project-queries.ts";
