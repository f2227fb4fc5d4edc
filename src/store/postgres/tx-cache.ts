/**
 * The rows a writer's transaction has read or written, kept for the rest of that transaction: a
 * run and an op are read several times by the commands of one batch (the lease check, the op, the
 * wake-up), and on PostgreSQL every read is a round trip. Batches run one at a time across daemons
 * (the commit lock), so nothing but this transaction's own writes can change a row while it is
 * open. The writes that set known columns of a known row keep the cached row in step (a new run,
 * a status, a fence, state); any other write drops what it may have changed, a statement not
 * known to leave runs and ops alone drops everything, and so does a command rolled back to its
 * savepoint. Rows are handed out as copies.
 *
 * Besides rows, it keeps whole lists per run that a run's end reads (its open asks, who waits for
 * it, who is linked to it, whether it has open ops), read at once for the batch's ending runs, and
 * a run's whole op list when it is known (read at once for the runs a batch may lease; a run
 * inserted by this transaction has none), which the batch's own op writes keep in step. Any other
 * write to a list's table drops that list (for ops, the run's), so a list is only ever what the
 * database holds.
 */
import { OPEN_OP_STATUSES, type AnyRunStatus, type OpStatus } from "../../shared/index.ts";
import type { MessageRow, NewRun, OpRow, OpWrite, RelationshipRow, RunRow } from "../rows.ts";
import type { StoreOps } from "../boundary.ts";
import { statementsThat } from "../statement-effects.ts";
import type { NumberedOpWrite } from "./kept-writes.ts";

/**
 * Where a statement not followed below leaves the cache, by its effect (`statement-effects.ts`):
 * reads and writes to other tables leave it alone; a write to one run's row, or to one run's ops,
 * drops that; any other write to runs or ops drops everything. Only reads are not counted as writes.
 */
const READS = statementsThat("read");
const NEUTRAL = statementsThat("read", "write");
const RUN_WRITES = statementsThat("writeRun");
const OP_WRITES = statementsThat("writeOps");

/** A run row as the prefetch reads it: with its wake-up flag, which `RunRow` does not carry. */
export type PrefetchedRun = RunRow & { wakePending: number };

/** A row of `run_waiters` as the prefetch reads it. */
export interface WaiterRow {
  targetId: string;
  waiterId: string;
  opKey: string;
  createdAt: number;
}

/** What a run's end reads, read at once for the runs a batch may end. */
export interface EndingLists {
  runIds: readonly string[];
  outbound: readonly MessageRow[];
  waiters: readonly WaiterRow[];
  relationshipsTo: readonly RelationshipRow[];
  /** Those of the runs with an open op (`closeOpenOps` has something to close). */
  withOpenOps: readonly string[];
}

/** The row `op` leaves in the database, given the run's whole op list (as the upsert does it). */
function opRowAfter(list: readonly OpRow[], op: OpWrite): OpRow {
  const before = list.find((known) => known.opKey === op.opKey);
  const numbered = (op.status === "completed" || op.status === "failed") && !op.unseen;
  const last = list.reduce((max, known) => Math.max(max, known.resolvedSeq ?? 0), 0);
  return {
    runId: op.runId, opKey: op.opKey,
    // An upsert keeps the row's place and identity; it changes its outcome.
    seq: before?.seq ?? op.seq, kind: before?.kind ?? op.kind, name: before?.name ?? op.name,
    status: op.status, attempt: op.attempt, result: op.result, error: op.error, wakeAt: op.wakeAt, meta: op.meta,
    resolvedSeq: before?.resolvedSeq ?? (numbered ? last + 1 : null),
    updatedAt: op.now,
  };
}

/** Open ops, as `closeOpenOps` finds them. */
const OPEN_OPS: ReadonlySet<OpStatus> = new Set(OPEN_OP_STATUSES);

/** What the cache needs besides the statements: writes sent without waiting for their answers. */
export interface CacheWrites {
  setFence(id: string, fence: number, now: number): Promise<void>;
  /** Deletes the run's waiters (their rows are already known). */
  dropRunWaiters(targetId: string): Promise<void>;
}

export interface TxCache {
  /** How many writes the open transaction has sent so far (a command that wrote nothing has nothing to undo). */
  readonly writes: number;
  noteWrite(): void;
  /** Fills the cache with rows read for the whole batch at once. */
  seed(runs: readonly PrefetchedRun[], runIds: readonly string[], ops: readonly OpRow[], opKeys: readonly (readonly [string, string])[]): void;
  /** Fills the lists a run's end reads. */
  seedEnding(lists: EndingLists): void;
  /** Fills the whole op lists of runs a batch may lease (`rows` in `seq` order). */
  seedOpLists(runIds: readonly string[], rows: readonly OpRow[]): void;
  clear(): void;
  /** The statements of `direct`, reading through the cache while `active()`. */
  wrap(direct: StoreOps, active: () => boolean, extra: CacheWrites): StoreOps;
}

const opKeyOf = (runId: string, opKey: string) => `${runId}\u0000${opKey}`;
/** Byte order, as the stores sort text. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `me`: the daemon id this store writes as the owner of the runs it leases. `beforeForget`: sends
 * the op writes kept back, before the cache forgets a run's op list: a write kept back may carry a
 * delivery number worked out from that list, and the next write of the run, with no list, is
 * numbered by the database, which must see the first.
 */
export function createTxCache(me: string, beforeForget: () => void = () => {}): TxCache {
  let writes = 0;
  const runs = new Map<string, RunRow | null>();
  const wakePending = new Map<string, boolean>();
  const ops = new Map<string, OpRow | null>();
  /** A run's whole op list, in `seq` order. */
  const opLists = new Map<string, OpRow[]>();
  const outbound = new Map<string, MessageRow[]>();
  const waiters = new Map<string, WaiterRow[]>();
  const relationshipsTo = new Map<string, RelationshipRow[]>();
  /** Whether a run has an open op, known for the runs a batch may end. */
  const hasOpenOps = new Map<string, boolean>();
  const copy = <T extends object>(row: T | null): T | null => (row === null ? null : { ...row });
  const copies = <T extends object>(rows: readonly T[]): T[] => rows.map((row) => ({ ...row }));
  const clear = () => {
    if (opLists.size > 0) beforeForget();
    runs.clear();
    wakePending.clear();
    ops.clear();
    opLists.clear();
    outbound.clear();
    waiters.clear();
    relationshipsTo.clear();
    hasOpenOps.clear();
  };
  /** A write to the run's ops: what the cache knew of them may be wrong now. */
  const dropOpsOf = (runId: string) => {
    if (opLists.delete(runId)) beforeForget();
    hasOpenOps.delete(runId);
    const prefix = opKeyOf(runId, "");
    for (const key of ops.keys()) if (key.startsWith(prefix)) ops.delete(key);
  };
  const group = <T>(rows: readonly T[], keyOf: (row: T) => string, ids: readonly string[], into: Map<string, T[]>) => {
    for (const id of ids) into.set(id, []);
    for (const row of rows) into.get(keyOf(row))?.push(row);
  };
  /** Changes a cached run's columns as the write does in the database (nothing when it is not cached). */
  const follow = (id: string, change: Partial<RunRow>) => {
    const row = runs.get(id);
    if (row) runs.set(id, { ...row, ...change });
    else runs.delete(id);
  };
  return {
    get writes() {
      return writes;
    },
    noteWrite: () => void writes++,
    seed(runRows, runIds, opRows, opKeys) {
      for (const id of runIds) runs.set(id, null);
      for (const { wakePending: pending, ...row } of runRows) {
        runs.set(row.id, row);
        wakePending.set(row.id, pending === 1);
      }
      for (const [runId, opKey] of opKeys) ops.set(opKeyOf(runId, opKey), null);
      for (const row of opRows) ops.set(opKeyOf(row.runId, row.opKey), row);
    },
    seedOpLists(runIds, rows) {
      group(rows, (op) => op.runId, runIds, opLists);
    },
    seedEnding(lists) {
      group(lists.outbound, (m) => m.senderRunId ?? "", lists.runIds, outbound);
      group(lists.waiters, (w) => w.targetId, lists.runIds, waiters);
      group(lists.relationshipsTo, (r) => r.targetId, lists.runIds, relationshipsTo);
      for (const id of lists.runIds) hasOpenOps.set(id, false);
      for (const id of lists.withOpenOps) hasOpenOps.set(id, true);
    },
    clear,
    wrap(direct, active, extra) {
      const wrapped: Record<string, unknown> = {};
      // Each statement's own parameter types are checked where `StoreOps` declares them; here they pass through.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      type Loose = (...args: any[]) => Promise<any>;
      const on = (name: string, whenActive: (method: Loose, ...args: any[]) => Promise<unknown>) => {
        const method = (direct as unknown as Record<string, Loose>)[name]!;
        const counted: Loose = READS.has(name) ? method : (...args) => (writes++, method(...args));
        wrapped[name] = (...args: unknown[]) => (active() ? whenActive(counted, ...args) : method(...args));
      };
      for (const [name, method] of Object.entries(direct) as [string, (...args: unknown[]) => Promise<unknown>][]) {
        if (typeof method !== "function") continue;
        if (NEUTRAL.has(name)) on(name, (m, ...args: unknown[]) => m(...args));
        else if (RUN_WRITES.has(name)) {
          on(name, (m, id: unknown, ...rest: unknown[]) => {
            runs.delete(id as string);
            return m(id, ...rest);
          });
        } else if (OP_WRITES.has(name)) {
          on(name, (m, runId: unknown, ...rest: unknown[]) => {
            dropOpsOf(runId as string);
            return m(runId, ...rest);
          });
        } else {
          // Not known to leave runs and ops alone: forget everything.
          on(name, (m, ...args: unknown[]) => {
            clear();
            return m(...args);
          });
        }
      }
      on("getRun", async (m, id: string) => {
        if (runs.has(id)) return copy(runs.get(id)!);
        const row = (await m(id)) as RunRow | null;
        runs.set(id, row);
        return copy(row);
      });
      on("getOp", async (m, runId: string, opKey: string) => {
        const list = opLists.get(runId);
        if (list) return copy(list.find((op) => op.opKey === opKey) ?? null);
        const key = opKeyOf(runId, opKey);
        if (ops.has(key)) return copy(ops.get(key)!);
        const row = (await m(runId, opKey)) as OpRow | null;
        ops.set(key, row);
        return copy(row);
      });
      on("getWakePending", async (m, id: string) => {
        const known = wakePending.get(id);
        if (known !== undefined) return known;
        const pending = (await m(id)) as boolean;
        wakePending.set(id, pending);
        return pending;
      });
      // With the run's whole op list known, the write's row is worked out here as the database
      // will store it (its delivery number too, which then goes with the write), and the list stays.
      on("putOp", (m, op: OpWrite) => {
        ops.delete(opKeyOf(op.runId, op.opKey));
        hasOpenOps.delete(op.runId);
        const list = opLists.get(op.runId);
        if (!list) return m(op);
        const row = opRowAfter(list, op);
        const at = list.findIndex((known) => known.opKey === op.opKey);
        if (at >= 0) list[at] = row;
        else {
          list.push(row);
          list.sort((a, b) => a.seq - b.seq);
        }
        return m({ ...op, numberGiven: row.resolvedSeq } satisfies NumberedOpWrite);
      });
      on("openOpCount", async (m, runId: string) => {
        const list = opLists.get(runId);
        if (!list) return m(runId);
        return list.filter((op) => op.status !== "completed" && op.status !== "failed").length;
      });
      on("listOps", async (m, runId: string) => {
        const known = opLists.get(runId);
        if (known) return copies(known);
        return m(runId);
      });
      // With the run's whole op list known, these need no statement when they have nothing to change.
      on("numberUnseenOutcomes", (m, runId: string) => {
        const known = opLists.get(runId);
        if (known && !known.some((op) => (op.status === "completed" || op.status === "failed") && op.resolvedSeq === null)) return Promise.resolve();
        dropOpsOf(runId);
        return m(runId);
      });
      on("closeOpenOps", (m, runId: string, ...rest: unknown[]) => {
        const known = opLists.get(runId);
        if (known && !known.some((op) => OPEN_OPS.has(op.status))) return Promise.resolve();
        if (hasOpenOps.get(runId) === false) return Promise.resolve();
        dropOpsOf(runId);
        return m(runId, ...rest);
      });
      on("openOutbound", async (m, senderRunId: string) => {
        const known = outbound.get(senderRunId);
        if (known) return copies(known);
        return m(senderRunId);
      });
      for (const name of ["insertMessage", "updateMessage"]) {
        on(name, (m, ...args: unknown[]) => {
          outbound.clear();
          return m(...args);
        });
      }
      on("takeRunWaiters", async (m, targetId: string) => {
        const known = waiters.get(targetId);
        if (!known) return m(targetId);
        waiters.set(targetId, []);
        if (known.length === 0) return [];
        writes++;
        await extra.dropRunWaiters(targetId);
        return [...known]
          .sort((a, b) => a.createdAt - b.createdAt || compare(a.waiterId, b.waiterId) || compare(a.opKey, b.opKey))
          .map(({ waiterId, opKey }) => ({ waiterId, opKey }));
      });
      on("addRunWaiter", (m, targetId: string, ...rest: unknown[]) => {
        waiters.delete(targetId);
        return m(targetId, ...rest);
      });
      on("moveRunWaiters", (m, ...args: unknown[]) => {
        waiters.clear();
        return m(...args);
      });
      on("relationshipsTo", async (m, targetId: string) => {
        const known = relationshipsTo.get(targetId);
        if (known) return copies(known);
        return m(targetId);
      });
      on("addRelationship", (m, ...args: unknown[]) => {
        relationshipsTo.clear();
        return m(...args);
      });
      // A new run's row is known whole: the columns it does not set take the schema's defaults.
      on("insertRun", (m, r: NewRun) => {
        const row: RunRow = {
          id: r.id, kind: r.kind, name: r.name, status: r.status, input: r.input, output: null, error: null, parentId: r.parentId,
          project: r.project, snapshotId: r.snapshotId, serviceKey: null, keyInput: null, state: null, leaseFence: 0, crashes: 0,
          trapsExits: 0, createdAt: r.now, updatedAt: r.now, finishedAt: null, owner: null,
        };
        runs.set(r.id, row);
        wakePending.set(r.id, false);
        // Ops belong to an existing run (a foreign key): a new run has none.
        opLists.set(r.id, []);
        return m(r);
      });
      on("setRunStatus", (m, id: string, status: AnyRunStatus, now: number) => {
        follow(id, { status, updatedAt: now, owner: status === "running" || status === "active" ? me : null });
        return m(id, status, now);
      });
      on("finishRun", (m, id: string, status: AnyRunStatus, output: string | null, error: string | null, now: number) => {
        follow(id, { status, output, error, updatedAt: now, finishedAt: now, owner: null });
        return m(id, status, output, error, now);
      });
      on("setCrashes", (m, id: string, crashes: number) => {
        follow(id, { crashes });
        return m(id, crashes);
      });
      on("setState", (m, id: string, state: string | null, now: number) => {
        follow(id, { state, updatedAt: now });
        return m(id, state, now);
      });
      on("setWakePending", (m, id: string, pending: boolean) => {
        wakePending.set(id, pending);
        return m(id, pending);
      });
      // A fence bump on a run already read needs no answer: the new fence is the one read, plus one.
      on("bumpFence", async (m, id: string, now: number) => {
        wakePending.set(id, false);
        const row = runs.get(id);
        if (!row) {
          runs.delete(id);
          return m(id, now);
        }
        const fence = row.leaseFence + 1;
        runs.set(id, { ...row, leaseFence: fence, updatedAt: now });
        writes++;
        await extra.setFence(id, fence, now);
        return fence;
      });
      return wrapped as unknown as StoreOps;
    },
  };
}
