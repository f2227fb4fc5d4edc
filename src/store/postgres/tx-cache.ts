/**
 * The rows a writer's transaction has read, kept for the rest of that transaction: a run and an op
 * are read several times by the commands of one batch (the lease check, the op, the wake-up), and
 * on PostgreSQL every read is a round trip. Batches run one at a time across daemons (the commit
 * lock), so nothing but this transaction's own writes can change a row while it is open: each
 * write drops what it may have changed, an unknown statement drops everything, and so does a
 * command rolled back to its savepoint. Rows are handed out as copies.
 */
import type { OpRow, RunRow } from "../rows.ts";
import type { StoreOps } from "../boundary.ts";

/** Writes to runs whose first argument is the run's id. */
const RUN_WRITES = new Set(["setRunStatus", "finishRun", "bumpFence", "setWakePending", "setCrashes", "setState", "setTrapsExits"]);
/** Writes to ops whose first argument is the run's id (a run's ops go from the cache). */
const OP_WRITES = new Set(["closeOpenOps", "closeOpenOpsWithPrefix", "numberUnseenOutcomes"]);
/** Statements that change neither runs nor ops: reads, and writes to other tables. */
const NEUTRAL = new Set([
  "getRun", "getOp", "getWakePending", "getMeta", "setMeta", "listRuns", "listRunIdsWithStatus", "listOps", "listOpsWithPrefix",
  "latestWaitingSignalOp", "firstWaitingOp", "dueTimers", "dueSleeps", "nextWakes", "nextSleepAfter", "openOpCount",
  "appendEvent", "listEvents", "insertSignal", "takeBufferedSignal", "listSignals", "listChildren", "addRunWaiter", "takeRunWaiters",
  "moveRunWaiters", "integrityCheck", "insertMessage", "getMessage", "updateMessage", "activeMessage", "nextReadyMessage",
  "inboxCounts", "openMessages", "listMessages", "dueMessages", "openOutbound", "openOutboundWithPrefix", "putProject", "getProject",
  "listProjects", "deleteProject", "liveRunsBySnapshot", "addRelationship", "relationshipsOf", "relationshipsTo", "insertExitEvent",
  "takeExitEvent", "releaseExitEvents", "listExitEvents", "insertSupervisor", "getSupervisor", "updateSupervisor", "listSupervisors",
  "insertMember", "getMember", "listMembers", "setMemberRun", "memberByRun", "subscribe", "unsubscribe", "subscribersOf", "subscriptionsOf",
]);

/** Statements that only read. Every other one counts as a write (see `writes`). */
const READS = new Set([
  "getRun", "getOp", "getWakePending", "getMeta", "listRuns", "listRunIdsWithStatus", "listOps", "listOpsWithPrefix",
  "latestWaitingSignalOp", "firstWaitingOp", "dueTimers", "dueSleeps", "nextWakes", "nextSleepAfter", "openOpCount", "listEvents",
  "listSignals", "listChildren", "integrityCheck", "getMessage", "activeMessage", "nextReadyMessage", "inboxCounts", "openMessages",
  "listMessages", "dueMessages", "openOutbound", "openOutboundWithPrefix", "getProject", "listProjects", "liveRunsBySnapshot",
  "relationshipsOf", "relationshipsTo", "listExitEvents", "getSupervisor", "listSupervisors", "getMember", "listMembers", "memberByRun",
  "subscribersOf", "subscriptionsOf",
]);

export interface TxCache {
  /** How many writes the open transaction has sent so far (a command that wrote nothing has nothing to undo). */
  readonly writes: number;
  noteWrite(): void;
  /** Fills the cache with rows read for the whole batch at once. */
  seed(runs: readonly (RunRow & { owner?: string | null })[], runIds: readonly string[], ops: readonly OpRow[], opKeys: readonly (readonly [string, string])[]): void;
  clear(): void;
  /** The statements of `direct`, reading through the cache while `active()`. */
  wrap(direct: StoreOps, active: () => boolean): StoreOps;
}

const opKeyOf = (runId: string, opKey: string) => `${runId}\u0000${opKey}`;

export function createTxCache(): TxCache {
  let writes = 0;
  const runs = new Map<string, RunRow | null>();
  const ops = new Map<string, OpRow | null>();
  const copy = <T extends object>(row: T | null): T | null => (row === null ? null : { ...row });
  const clear = () => {
    runs.clear();
    ops.clear();
  };
  return {
    get writes() {
      return writes;
    },
    noteWrite: () => void writes++,
    seed(runRows, runIds, opRows, opKeys) {
      for (const id of runIds) runs.set(id, null);
      for (const row of runRows) runs.set(row.id, row);
      for (const [runId, opKey] of opKeys) ops.set(opKeyOf(runId, opKey), null);
      for (const row of opRows) ops.set(opKeyOf(row.runId, row.opKey), row);
    },
    clear,
    wrap(direct, active) {
      const wrapped: Record<string, unknown> = {};
      for (const [name, read] of Object.entries(direct) as [string, (...args: unknown[]) => Promise<unknown>][]) {
        if (typeof read !== "function") continue;
        const method = READS.has(name) ? read : (...args: unknown[]) => (writes++, read(...args));
        if (name === "getRun") {
          wrapped[name] = async (id: string) => {
            if (!active()) return method(id);
            if (runs.has(id)) return copy(runs.get(id)!);
            const row = (await method(id)) as RunRow | null;
            runs.set(id, row);
            return copy(row);
          };
        } else if (name === "getOp") {
          wrapped[name] = async (runId: string, opKey: string) => {
            if (!active()) return method(runId, opKey);
            const key = opKeyOf(runId, opKey);
            if (ops.has(key)) return copy(ops.get(key)!);
            const row = (await method(runId, opKey)) as OpRow | null;
            ops.set(key, row);
            return copy(row);
          };
        } else if (NEUTRAL.has(name)) {
          wrapped[name] = method;
        } else if (RUN_WRITES.has(name)) {
          wrapped[name] = (id: string, ...rest: unknown[]) => {
            runs.delete(id);
            return method(id, ...rest);
          };
        } else if (name === "insertRun") {
          wrapped[name] = (run: { id: string }) => {
            runs.delete(run.id);
            return method(run);
          };
        } else if (name === "putOp") {
          wrapped[name] = (op: { runId: string; opKey: string }) => {
            ops.delete(opKeyOf(op.runId, op.opKey));
            return method(op);
          };
        } else if (OP_WRITES.has(name)) {
          wrapped[name] = (...args: unknown[]) => {
            ops.clear();
            return method(...args);
          };
        } else {
          // Not known to leave runs and ops alone: forget everything.
          wrapped[name] = (...args: unknown[]) => {
            clear();
            return method(...args);
          };
        }
      }
      return wrapped as unknown as StoreOps;
    },
  };
}
