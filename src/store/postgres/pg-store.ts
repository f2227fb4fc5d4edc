/**
 * The PostgreSQL store (`--database postgres://…`, `VILANO_DATABASE_URL`) on Bun's built-in
 * client, behind the same boundary as SQLite's. The writer's transaction holds one connection of
 * the pool from BEGIN to COMMIT (Bun's `sql.begin`), and every statement of a command runs on it;
 * reads from outside go to the pool and see committed rows only. A COMMIT returns once PostgreSQL
 * has made the transaction durable (`synchronous_commit` on, its default), so an acknowledged write
 * is committed, as on SQLite.
 */
import { SQL } from "bun";
import { isService, VilanoError } from "../../shared/index.ts";
import type { PrefetchHint, Store, StoreOps } from "../boundary.ts";
import { isConnectionLost, isStorageFault, RetryCarefully, StorageFault } from "../faults.ts";
import { createAvailabilityGate } from "./availability.ts";
import { newDaemonId, pgCluster } from "./cluster.ts";
import { PG_OP_COLUMNS, PG_RUN_COLUMNS, pgCoreStatements, type Later } from "./core-statements.ts";
import { gatedPool } from "./gated-pool.ts";
import { probeServer, probeTargetOf } from "./server-probe.ts";
import { pgShelf } from "./shelf.ts";
import { keptWrites, type NumberedOpWrite } from "./kept-writes.ts";
import { createTxCache, type EndingLists, type PrefetchedRun } from "./tx-cache.ts";
import { PG_MESSAGE_COLUMNS, pgInboxStatements } from "./inbox-statements.ts";
import { pgMigrate } from "./migrate.ts";
import { pgProjectStatements } from "./project-statements.ts";
import { PG_RELATIONSHIP_COLUMNS, pgRelationStatements } from "./relation-statements.ts";
import { pgSubscriptionStatements } from "./subscription-statements.ts";
import { pgSupervisionStatements } from "./supervision-statements.ts";

export interface PostgresStoreOptions {
  /** Connections in the pool (default 8, at least 2): the writer's transaction holds one while it is open. */
  maxConnections?: number;
}

/** A connection URL without its password (in the user part or the query), for messages and `daemon status`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, "***");
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

/**
 * Any number, the same in every daemon: held by a writer's transaction from its first statement to
 * its end, so the daemons' batches commit one at a time, each reading everything committed before.
 */
const COMMIT_LOCK = 0x76696c62;

/**
 * A writer's transaction that stalls (its daemon stopped, or cut off) must not hold the commit lock
 * for good: PostgreSQL ends its session after this long idle inside it, and the others go on.
 */
const STALLED_TRANSACTION_MS = 5_000;

/**
 * The first statement of a writer's transaction: its settings, then the commit lock. The settings:
 * the stall limit above; no sequential scans, and no hash or merge joins, for every statement of a
 * batch finds its rows by key (a join of a batch's rows with a table is an index lookup per row),
 * and its plan is prepared once: planned while a new database's tables were still small (and not
 * analyzed yet), reading the whole table looks cheaper than the index, and stays in the plan while
 * the table grows; and no JIT compiling, which only pays for long queries, and which a plan priced
 * out of the way would set off. (A select list is worked out in its order: the lock comes last.)
 */
const START_WRITER = `SELECT set_config('idle_in_transaction_session_timeout', '${STALLED_TRANSACTION_MS}', true), set_config('enable_seqscan', 'off', true),
  set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true), set_config('jit', 'off', true),
  pg_advisory_xact_lock($1::bigint)`;

/**
 * The most a new connection may take to be ready (Bun's default is 30 s): a connection that hangs
 * (connected to itself, see server-probe.ts, or to a server that does not answer) gives up then.
 */
const CONNECT_TIMEOUT_S = 10;
/** The most a look at the server's port may take while the database is away. */
const PROBE_TIMEOUT_MS = 5_000;
/** If listening again fails while the database is otherwise back, it is tried again after this long. */
const RELISTEN_AFTER_MS = 5_000;

/**
 * Every statement, on the connection `db` gives. `aside` is for those that read neither runs nor
 * ops (the inbox, relationships, supervision, subscriptions): inside a transaction, the runs and
 * ops kept back need not go before them.
 */
const statementsOver = (db: () => SQL, later: Later, me: string, aside: () => SQL = db): StoreOps => ({
  ...pgCoreStatements(db, later, me),
  ...pgInboxStatements(aside, later),
  ...pgProjectStatements(db),
  ...pgRelationStatements(aside),
  ...pgSupervisionStatements(aside),
  ...pgSubscriptionStatements(aside),
});

/** Connects to PostgreSQL at `url` and brings its schema up to date. */
export async function createPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  // Idle connections close after a while: a daemon at rest holds only the one that hears the other
  // daemons (LISTEN, Bun's own). At least two: a transaction holds one, and reads need another.
  const poolSize = Math.max(2, options.maxConnections ?? 8);
  const sql = new SQL(url, { max: poolSize, idleTimeout: 10, connectionTimeout: CONNECT_TIMEOUT_S, onnotice: () => {} } as never);
  let schemaVersion: number;
  try {
    schemaVersion = await pgMigrate(sql);
  } catch (error) {
    await sql.close();
    if (error instanceof VilanoError) throw error;
    throw new VilanoError("storage_failed", `cannot use the PostgreSQL database at ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  }

  // While the server is away nothing is sent: statements outside the writer's transaction go to the
  // pool through the gate, and a transaction does not begin (see availability.ts).
  const target = probeTargetOf(url);
  const gate = createAvailabilityGate({
    where: redactUrl(url),
    async look() {
      if (target) await probeServer(target, PROBE_TIMEOUT_MS);
      // Pooled connections the server ended while idle (pg_terminate_backend, a restart) each fail
      // once before the pool makes a new one: such a failure is that connection, not the server,
      // so the statement goes again, as many times as the pool has connections.
      for (let attempt = 1; ; attempt++) {
        try {
          await sql`SELECT 1`;
          return;
        } catch (error) {
          if (!isConnectionLost(error) || attempt > poolSize) throw error;
        }
      }
    },
  });
  const pool = gatedPool(sql, gate);

  /** The writer's transaction client while one is open; statements outside one use the pool. */
  let current: SQL | null = null;
  /** Settles when the open transaction has ended (close waits for it). */
  let open: Promise<void> | null = null;
  let closed = false;
  let joined = false;
  /** Writes sent inside the open transaction and not answered yet; the first that failed. */
  let inflight: Promise<unknown>[] = [];
  let failed: { error: unknown } | null = null;
  const later: Later = (write) => {
    if (!current) return write.then(() => undefined);
    inflight.push(write.catch((error: unknown) => void (failed ??= { error })));
    return Promise.resolve();
  };
  /** The open transaction's writes that nobody waits for, kept back and sent together (see kept-writes.ts). */
  const kept = keptWrites((text, params) => {
    // Inside the transaction `later` only queues it; its failure is told when the writes are settled.
    if (current) void later(current.unsafe(text, params));
  });
  /** Everything kept back, sent. */
  const sendPending = () => kept.sendAll();
  /** The connection a statement goes to: the open transaction's, behind the writes kept back; else the pool. */
  const writerOrPool = (): SQL => {
    if (!current) return pool;
    kept.sendWrites();
    return current;
  };
  /**
   * Waits for every pipelined write; throws the first that failed — again at every later call, until
   * the command it broke is rolled back to its savepoint or the transaction ends.
   */
  async function settleWrites(): Promise<void> {
    sendPending();
    while (inflight.length > 0) await Promise.all(inflight.splice(0));
    if (failed) throw failed.error;
  }
  /**
   * After `thrown` (a command's, or a batch's): waits for the pipelined writes. A write that failed
   * is the error to tell (a read after it fails only because it did), and `settled` says so.
   */
  async function settleAfter(thrown: unknown): Promise<{ settled: boolean; error: unknown }> {
    try {
      await settleWrites();
      return { settled: true, error: thrown };
    } catch (first) {
      return { settled: false, error: first };
    }
  }
  const me = newDaemonId();
  const cache = createTxCache(me, () => kept.sendWrites());
  /** The open transaction waits for each command's writes before the next (see `savepoint`). */
  let careful = false;
  /** A command of the open transaction failed after writing, with no savepoint to undo it. */
  let mustRetry = false;
  /**
   * Reads the batch's runs and ops at once, into the cache; for the runs it may lease, their whole
   * op lists; for the runs it may end, what an end reads.
   */
  async function prefetch(tx: SQL, hints: readonly PrefetchHint[]): Promise<void> {
    const runIds = [...new Set(hints.map((h) => h.runId))];
    const ending = [...new Set(hints.filter((h) => h.ending).map((h) => h.runId))];
    const leasing = [...new Set(hints.filter((h) => h.leasing).map((h) => h.runId))];
    const opKeys = hints.filter((h): h is PrefetchHint & { opKey: string } => h.opKey !== undefined).map((h) => [h.runId, h.opKey] as const);
    const [runs, ops, lists, opLists] = await Promise.all([
      tx.unsafe(`SELECT ${PG_RUN_COLUMNS}, wake_pending AS "wakePending" FROM runs WHERE id = ANY($1::text[])`, [runIds]),
      opKeys.length === 0
        ? []
        : tx.unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE (run_id, op_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [opKeys.map((k) => k[0]), opKeys.map((k) => k[1])]),
      ending.length === 0 ? null : readEnding(tx, ending),
      // A service instance's history grows with every turn, and a turn reads only its own: workflows only.
      leasing.length === 0
        ? null
        : tx.unsafe(`SELECT ${PG_OP_COLUMNS} FROM ops WHERE run_id IN (SELECT id FROM runs WHERE id = ANY($1::text[]) AND kind <> 'service') ORDER BY run_id, seq`, [
            leasing,
          ]),
    ]);
    cache.seed([...runs] as PrefetchedRun[], runIds, [...ops], opKeys);
    if (lists) cache.seedEnding(lists);
    if (opLists) {
      const workflows = new Set(runs.filter((r: PrefetchedRun) => !isService(r)).map((r: PrefetchedRun) => r.id));
      cache.seedOpLists(leasing.filter((id) => workflows.has(id)), [...opLists]);
    }
  }
  /** The same rows as `openOutbound`, `takeRunWaiters` and `relationshipsTo` read, for several runs, and which have an open op. */
  async function readEnding(tx: SQL, runIds: string[]): Promise<EndingLists> {
    const [outbound, waiters, relationshipsTo, open] = await Promise.all([
      tx.unsafe(`SELECT ${PG_MESSAGE_COLUMNS} FROM messages WHERE sender_run_id = ANY($1::text[]) AND kind = 'ask' AND status IN ('queued', 'deferred', 'active') ORDER BY id`, [runIds]),
      tx.unsafe(`SELECT target_id AS "targetId", waiter_id AS "waiterId", op_key AS "opKey", created_at AS "createdAt" FROM run_waiters WHERE target_id = ANY($1::text[])`, [runIds]),
      tx.unsafe(`SELECT ${PG_RELATIONSHIP_COLUMNS} FROM relationships WHERE target_id = ANY($1::text[]) ORDER BY created_at, owner_id, kind COLLATE "C"`, [runIds]),
      tx.unsafe(`SELECT DISTINCT run_id AS "runId" FROM ops WHERE run_id = ANY($1::text[]) AND status IN ('waiting', 'retry_wait', 'retry_ready')`, [runIds]),
    ]);
    return { runIds, outbound: [...outbound], waiters: [...waiters], relationshipsTo: [...relationshipsTo], withOpenOps: [...open].map((r) => r.runId as string) };
  }
  /** For the statements that read neither runs nor ops: only new runs go first (they may refer to one). */
  const writerBesideKept = (): SQL => {
    if (!current) return pool;
    kept.sendInserts();
    return current;
  };
  const statements = statementsOver(writerOrPool, later, me, writerBesideKept);
  /** Inside the transaction the write is kept back; outside it the statement runs as it is. */
  const keep =
    <A extends unknown[]>(inside: (...args: A) => void, outside: (...args: A) => Promise<void>) =>
    (...args: A): Promise<void> => {
      if (!current) return outside(...args);
      inside(...args);
      return Promise.resolve();
    };
  const ownerFor = (status: string) => (status === "running" || status === "active" ? me : null);
  const writesKept: StoreOps = {
    ...statements,
    insertRun: keep((run) => kept.insertRun(run), statements.insertRun),
    setRunStatus: keep((id, status, now) => kept.changeRun(id, { status, owner: ownerFor(status), updatedAt: now }), statements.setRunStatus),
    finishRun: keep(
      (id, status, output, error, now) => kept.changeRun(id, { status, owner: null, output, error, updatedAt: now, finishedAt: now }),
      statements.finishRun,
    ),
    setWakePending: keep((id, pending) => kept.changeRun(id, { wakePending: pending ? 1 : 0 }), statements.setWakePending),
    setCrashes: keep((id, crashes) => kept.changeRun(id, { crashes }), statements.setCrashes),
    setState: keep((id, state, now) => kept.changeRun(id, { state, updatedAt: now }), statements.setState),
    putOp: keep((op: NumberedOpWrite) => kept.putOp(op), statements.putOp),
  };
  const cached = cache.wrap(writesKept, () => current !== null, {
    setFence: keep((id: string, fence: number, now: number) => kept.changeRun(id, { leaseFence: fence, wakePending: 0, updatedAt: now }), () => {
      throw new VilanoError("internal", "a fence is set inside a transaction only");
    }),
    dropRunWaiters: (targetId) => later(writerOrPool()`DELETE FROM run_waiters WHERE target_id = ${targetId}`),
  });
  const direct: StoreOps = {
    ...cached,
    appendEvent(runId, type, body, at) {
      if (!current) return cached.appendEvent(runId, type, body, at);
      cache.noteWrite();
      kept.appendEvent(runId, type, body, at);
      return Promise.resolve();
    },
    listEvents(runId, afterSeq) {
      sendPending(); // queued ahead of the read on the transaction's connection
      return cached.listEvents(runId, afterSeq);
    },
  };
  /** The fast path of `savepoint` (see there). */
  async function uncarefully<T>(fn: () => Promise<T>): Promise<T> {
    const before = cache.writes;
    try {
      return await fn();
    } catch (thrown) {
      const { settled, error } = await settleAfter(thrown);
      if (isStorageFault(error) || error instanceof RetryCarefully) throw error;
      if (!settled || cache.writes !== before) {
        // Whoever catches this, the transaction will not commit what it holds now.
        mustRetry = true;
        throw new RetryCarefully(error);
      }
      throw error;
    }
  }
  const reads = statementsOver(() => pool, (write) => write.then(() => undefined), me);
  // Its writes inside the transaction (members removed, their claims handed back) are unknown to the cache.
  const cluster = pgCluster(me, writerOrPool, pool, later, () => {
    cache.noteWrite();
    cache.clear();
  });
  // The client would retry the listening connection on its own while the server is away: it is
  // stopped then, and made again (with a look at what was missed) once the server is back.
  let relistenTimer: ReturnType<typeof setTimeout> | null = null;
  const relisten = () => {
    relistenTimer = null;
    if (closed || !gate.current().available) return;
    cluster.resumeListening().catch((error: unknown) => {
      gate.failed(error);
      if (!closed) relistenTimer = setTimeout(relisten, RELISTEN_AFTER_MS);
    });
  };
  gate.onChange((state) => {
    if (state.available) relisten();
    else void cluster.pauseListening();
  });

  return {
    ...direct,
    reads,
    path: redactUrl(url),
    schemaVersion,
    get inTransaction() {
      return current !== null;
    },
    async transaction(fn, options = {}) {
      if (closed) throw new VilanoError("runtime_closed", "the store is closed");
      if (open) throw new VilanoError("internal", "a transaction is already open: the store has one writer");
      gate.check();
      let end!: () => void;
      open = new Promise<void>((resolve) => (end = resolve));
      careful = options.careful === true;
      mustRetry = false;
      /** The lock is held and the rows read: from here on, the batch's commands run. */
      let started = false;
      const body = async (tx: SQL) => {
        current = tx;
        cache.clear();
        try {
          // Sent together, answered in order: the lock is held before the rows are read. (A query
          // of Bun's is sent when it is first awaited or given a `then`: each is given one at once.)
          // The lock's key goes as a parameter: Bun sends a statement without one by the simple
          // protocol, and waits for its answer before sending the reads behind it (a round trip more).
          const locked = tx.unsafe(START_WRITER, [COMMIT_LOCK]).then(() => undefined);
          const seeded = options.prefetch && options.prefetch.length > 0 ? prefetch(tx, options.prefetch) : null;
          // Both awaited together: a lost lock must not leave the read's rejection unheard.
          await Promise.all([locked, seeded]);
          started = true;
          const value = await fn();
          if (mustRetry) throw new RetryCarefully(new Error("a command failed after writing"));
          await settleWrites(); // every write answered before COMMIT is sent
          return value;
        } catch (error) {
          const { settled, error: told } = await settleAfter(error);
          // A write sent without waiting failed: which command's is not known, so the batch goes again, carefully.
          if (!settled && !careful && !isStorageFault(told) && !(told instanceof RetryCarefully)) throw new RetryCarefully(told);
          throw told instanceof RetryCarefully || isStorageFault(told) ? told : error;
        } finally {
          current = null;
          inflight = [];
          failed = null;
          kept.clear();
          cache.clear();
        }
      };
      try {
        // A pooled connection that died while idle (a server restart, an idle timeout) fails before
        // anything of the batch has run: the batch starts again on another, as many times as the
        // pool has connections, and then fails as the store's fault.
        for (let attempt = 1; ; attempt++) {
          let running: Promise<unknown> | null = null;
          try {
            return (await sql.begin((tx) => (running = body(tx as unknown as SQL)))) as Awaited<ReturnType<typeof fn>>;
          } catch (error) {
            if (started || !isConnectionLost(error) || attempt > poolSize) throw gate.failed(error);
            // Another connection only if the server is there: a look at it decides (once for all).
            gate.failed(error);
            await gate.whenLooked();
            gate.check();
          } finally {
            // A lost connection rejects `begin` while the commands may still be running: the next
            // transaction waits for them to be done with this one.
            await (running as Promise<unknown> | null)?.catch(() => {});
          }
        }
      } finally {
        open = null;
        end();
      }
    },
    /**
     * A command alone, rolled back alone when it fails. First without a savepoint at all: the
     * writes whose answers nobody needs are sent without waiting, so a command costs only the
     * reads it waits for. A command that fails having written nothing has nothing to undo; one
     * that fails after writing, or a write that failed (it shows at the next wait, and whose it
     * was cannot be told), sends the whole batch round again `careful`ly: then each command runs in
     * a savepoint (SAVEPOINT and RELEASE pipelined, one name for all, so the statement is prepared
     * once) with its writes answered before its RELEASE, and the failure lands on its own command.
     */
    async savepoint(fn) {
      const tx = current;
      if (!tx) throw new VilanoError("internal", "a savepoint needs an open transaction");
      if (!careful) return await uncarefully(fn);
      const control = (statement: string) => {
        sendPending(); // what came before the savepoint stays out of it
        inflight.push(tx.unsafe(statement).then(() => undefined, (error: unknown) => void (failed ??= { error: new StorageFault(`${statement} failed: ${(error as Error).message}`, { cause: error }) })));
      };
      control("SAVEPOINT cmd");
      let value: Awaited<ReturnType<typeof fn>>;
      try {
        value = await fn();
        await settleWrites(); // a pipelined write that failed fails its command
      } catch (thrown) {
        const { error } = await settleAfter(thrown);
        if (isStorageFault(error)) throw error;
        try {
          await tx.unsafe("ROLLBACK TO SAVEPOINT cmd");
          await tx.unsafe("RELEASE SAVEPOINT cmd");
          failed = null; // undone with its command
        } catch (rollbackError) {
          // The command's writes could not be undone: the batch fails.
          throw new StorageFault(`a failed command could not be rolled back: ${(rollbackError as Error).message}`, { cause: rollbackError });
        }
        // What the cache read after the command's writes is gone with them.
        cache.clear();
        throw error;
      }
      control("RELEASE SAVEPOINT cmd");
      return value;
    },
    async prefetch(hints) {
      if (current && hints.length > 0) await prefetch(writerOrPool(), hints);
    },
    cluster,
    shelf: pgShelf(pool),
    availability: { current: gate.current, onChange: gate.onChange },
    // A member among the daemons sharing the database: any number may write, one batch at a time.
    async claimWriter() {
      if (joined) return;
      await cluster.join();
      joined = true;
    },
    async releaseWriter() {
      if (!joined) return;
      joined = false;
      try {
        await cluster.leave();
      } catch (error) {
        // The database is away: this daemon's row stays, and the others count it dead once it is
        // silent (at once on this machine, its process being gone). Stopping must not wait for it.
        if (!isConnectionLost(error)) throw error;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      while (open) await open;
      if (joined) {
        joined = false;
        await cluster.leave().catch(() => {});
      }
      gate.close();
      if (relistenTimer !== null) clearTimeout(relistenTimer);
      await sql.close();
    },
  };
}
