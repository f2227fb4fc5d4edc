/**
 * What each statement of the contract (`contract.ts`) does to the database, in one table the
 * compiler holds to exactly the contract's methods: a statement added to `StoreOps` without an
 * effect here, or an effect for a name that is no statement, does not compile. The stores read it
 * instead of keeping their own lists of names: the SQLite store takes its statements by these
 * names (everything else of its synchronous handle is control), and the PostgreSQL transaction's
 * cache (`postgres/tx-cache.ts`) counts writes and knows what to forget by them.
 */
import type { StoreOps } from "./contract.ts";

/**
 * The effects, named after what the PostgreSQL transaction's cache (which keeps `runs` and `ops`
 * rows for the rest of a transaction) must do about them:
 * - `read`: reads only.
 * - `write`: writes tables other than `runs` and `ops`: what the cache holds stays true.
 * - `writeRun`: writes columns of the one run its first argument names.
 * - `writeOps`: writes ops of the one run its first argument names.
 * - `writeRuns`: writes runs or ops not named by its first argument (a row given whole): the cache
 *   forgets everything, unless it follows that statement itself.
 */
export type StatementEffect = "read" | "write" | "writeRun" | "writeOps" | "writeRuns";

export const STATEMENT_EFFECTS = {
  // runs
  insertRun: "writeRuns",
  getRun: "read",
  setRunStatus: "writeRun",
  finishRun: "writeRun",
  bumpFence: "writeRun",
  setWakePending: "writeRun",
  getWakePending: "read",
  setCrashes: "writeRun",
  listRuns: "read",
  listRunIdsWithStatus: "read",
  listChildren: "read",
  setTrapsExits: "writeRun",
  // service instances
  insertInstance: "writeRuns",
  setState: "writeRun",
  // ops
  listOps: "read",
  listOpsWithPrefix: "read",
  getOp: "read",
  putOp: "writeRuns",
  numberUnseenOutcomes: "writeOps",
  latestWaitingSignalOp: "read",
  firstWaitingOp: "read",
  closeOpenOps: "writeOps",
  closeOpenOpsWithPrefix: "writeOps",
  openOpCount: "read",
  // timers
  dueTimers: "read",
  dueSleeps: "read",
  nextWakes: "read",
  nextSleepAfter: "read",
  // events
  appendEvent: "write",
  listEvents: "read",
  // signals
  insertSignal: "write",
  takeBufferedSignal: "write",
  listSignals: "read",
  // run waiters
  addRunWaiter: "write",
  takeRunWaiters: "write",
  moveRunWaiters: "write",
  // messages
  insertMessage: "write",
  getMessage: "read",
  activeMessage: "read",
  nextReadyMessage: "read",
  updateMessage: "write",
  inboxCounts: "read",
  listMessages: "read",
  openMessages: "read",
  openOutbound: "read",
  openOutboundWithPrefix: "read",
  dueMessages: "read",
  // projects
  putProject: "write",
  getProject: "read",
  listProjects: "read",
  deleteProject: "write",
  liveRunsBySnapshot: "read",
  // relationships and exit events
  addRelationship: "write",
  relationshipsTo: "read",
  relationshipsOf: "read",
  insertExitEvent: "write",
  takeExitEvent: "write",
  listExitEvents: "read",
  releaseExitEvents: "write",
  // supervision
  insertSupervisor: "write",
  getSupervisor: "read",
  listSupervisors: "read",
  updateSupervisor: "write",
  insertMember: "write",
  getMember: "read",
  memberByRun: "read",
  listMembers: "read",
  setMemberRun: "write",
  // subscriptions
  subscribe: "write",
  unsubscribe: "write",
  subscribersOf: "read",
  subscriptionsOf: "read",
  // meta and the database
  getMeta: "read",
  setMeta: "write",
  integrityCheck: "read",
} as const satisfies { readonly [K in keyof StoreOps]-?: StatementEffect };

/** The contract's statements, by name (the table's keys: exactly `keyof StoreOps`). */
export type StatementName = keyof typeof STATEMENT_EFFECTS;

// Both ways, beyond what `satisfies` checks on the literal: no statement without an effect, no effect without a statement.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const everyStatementClassified: Same<StatementName, keyof StoreOps> = true;
void everyStatementClassified;

export const STATEMENT_NAMES = Object.keys(STATEMENT_EFFECTS) as StatementName[];

/** The statements that have `effect`. */
export const statementsThat = (...effects: readonly StatementEffect[]): ReadonlySet<string> =>
  new Set(STATEMENT_NAMES.filter((name) => effects.includes(STATEMENT_EFFECTS[name])));
