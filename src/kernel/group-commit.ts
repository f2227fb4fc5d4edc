/**
 * Group commit: callers submit commands; the queue applies a whole batch in one transaction of
 * the store (one fsync), each command inside its own savepoint so a failing command rolls back
 * alone, and resolves the callers only after the commit returned. A batch whose every caller says
 * it needs no fsync of its own (`durable: false`: an ask's message, made durable by its reply's
 * commit) commits without one. One batch at a time. Post-commit effects (dispatching a
 * run, arming a timer, waking a waiter) run after the commit: the batch finishers' first, then
 * each command's, in submission order.
 */
import { crashPoint, VilanoError } from "../shared/index.ts";
import { isStorageFault, RetryCarefully, type PrefetchHint, type Store } from "../store/index.ts";

export interface Tx {
  /** The clock reading for this batch. */
  readonly now: number;
  /** Schedules work to run after the batch commits (never if it rolls back). */
  after(effect: () => void): void;
  /** Undoes in-memory bookkeeping done inside the command if its changes are rolled back. */
  onRollback(undo: () => void): void;
  /**
   * Runs `finish` once, after every command of the batch and before the commit, however many
   * commands ask under the same `key` (none of them rolled back). Waking a run this way lets every
   * change of the batch land before the run is leased and its history loaded.
   */
  atEnd(key: string, finish: (tx: Tx) => Promise<void>): void;
}

type Finishers = Map<string, (tx: Tx) => Promise<void>>;

/** A command: its reads and writes go to the store's open transaction (it awaits each one). */
export type Command<T> = (tx: Tx) => Promise<T>;

/** How a command's caller depends on its commit. */
export interface SubmitOptions {
  /**
   * `false`: the caller tells nobody outside the process of the outcome before a later commit that
   * waits for the disk (an ask's message: its reply comes with the turn's commit), so the batch, if
   * every command in it says so, commits without waiting for the disk. `syncLog()` makes it durable
   * when something must be told without such a commit (a refusal, a timed-out ask).
   */
  durable?: boolean;
}

interface Queued {
  apply: Command<unknown>;
  /** Whether the caller needs the commit durable before it hears of it. */
  durable: boolean;
  /** The run (and op) the command reads first, for a store that fetches a batch's rows at once. */
  hint: PrefetchHint | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitStats {
  batches: number;
  commands: number;
  largestBatch: number;
  /** Batches run again carefully after a pipelined write failed (PostgreSQL). */
  carefulRetries: number;
}

/** Commits that did not wait for the disk, and the syncs that made them durable without a commit. */
export interface DurabilityStats {
  /** Batches committed without waiting for the disk (every command in them said `durable: false`). */
  relaxedBatches: number;
  /** `syncLog()` calls that had a relaxed commit to make durable. */
  logSyncs: number;
}

export interface GroupCommitQueue {
  submit<T>(command: Command<T>, hint?: PrefetchHint, options?: SubmitOptions): Promise<T>;
  /**
   * Resolves once every commit so far is durable: at once when the last commit waited for the
   * disk, after an fsync of the log when a relaxed one came after it.
   */
  syncLog(): Promise<void>;
  /** Like submit, but first in the next batch (recovery after a failed batch goes before anything else). */
  submitFirst<T>(command: Command<T>): Promise<T>;
  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void>;
  /** Refuses new commands, commits those already submitted, then stops. */
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
  readonly durability: DurabilityStats;
}

const MAX_BATCH = 1_000;
/** The longest a relaxed commit stays off the disk when nothing else commits. */
const RELAXED_SYNC_MS = 20;

/** What the callers of a failed batch hear: a VilanoError, `storage_failed` for anything raw. */
function asStorageFailure(error: unknown): unknown {
  if (error instanceof VilanoError) return error;
  return new VilanoError("storage_failed", `the database could not commit: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

type Outcome = { ok: true; value: unknown; effects: readonly (() => void)[] } | { ok: false; error: unknown };

/** A batch's savepoint machinery failed (a storage fault): nothing in the batch stands. */
class BatchFailed {
  constructor(readonly error: unknown) {}
}

/** Shared by every command that asks for no effect after its commit (most do not): never written to. */
const NO_EFFECTS: readonly (() => void)[] = Object.freeze([]);

/**
 * One command's `Tx`: what it asks for counts only if it succeeds. Made for every command of every
 * batch (each step's report is one), so it is a class whose lists are made only when first used,
 * not an object of closures with three lists made up front.
 */
class CommandTx implements Tx {
  effects: (() => void)[] | undefined;
  undos: (() => void)[] | undefined;
  finishers: Finishers | undefined;

  constructor(
    readonly now: number,
    /** The batch's finishers so far: a key asked for already is not asked for again. */
    private readonly batchFinishers: Finishers,
  ) {}

  after(effect: () => void): void {
    (this.effects ??= []).push(effect);
  }

  onRollback(undo: () => void): void {
    (this.undos ??= []).push(undo);
  }

  atEnd(key: string, finish: (tx: Tx) => Promise<void>): void {
    if (this.batchFinishers.has(key) || this.finishers?.has(key)) return;
    (this.finishers ??= new Map()).set(key, finish);
  }
}

/**
 * `onBatchFailed` hears of a batch that could not be committed at all (the disk is full, the file
 * failed): its callers were refused, and what the kernel holds in memory may no longer match.
 */
export function createGroupCommitQueue(
  store: Store,
  now: () => number,
  onEffectError: (error: unknown) => void,
  onBatchFailed: (error: unknown) => void = () => {},
  /** After each committed batch, once its callers are resolved and its effects ran. */
  onCommitted: () => void = () => {},
  /** Last inside each batch's transaction, after its finishers (a failure fails the batch). */
  beforeCommit: (() => Promise<void>) | null = null,
): GroupCommitQueue {
  let queue: Queued[] = [];
  let scheduled = false;
  /** A batch is being applied and committed: the next one waits for it (one writer). */
  let flushing = false;
  let closing = false;
  let closed = false;
  const drains: (() => void)[] = [];
  const stats: GroupCommitStats = { batches: 0, commands: 0, largestBatch: 0, carefulRetries: 0 };
  const durability: DurabilityStats = { relaxedBatches: 0, logSyncs: 0 };
  /** A relaxed commit came after the last durable one: what it wrote is not on the disk yet. */
  let notYetDurable = false;
  /** Syncs the log a little after a relaxed commit when no durable one came first. */
  let lateSync: ReturnType<typeof setTimeout> | null = null;

  const schedule = () => {
    if (scheduled || flushing) return;
    scheduled = true;
    // setImmediate (not a microtask) so every activation woken by the previous commit gets to
    // submit its next command before this batch is cut.
    setImmediate(() => void flush());
  };

  const runEffects = (effects: readonly (() => void)[]) => {
    for (const effect of effects) {
      try {
        effect();
      } catch (error) {
        onEffectError(error);
      }
    }
  };

  async function flush(): Promise<void> {
    scheduled = false;
    if (closed) return;
    flushing = true;
    try {
      const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
      queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
      if (batch.length > 0) await commitBatch(batch);
    } finally {
      flushing = false;
    }
    if (queue.length > 0) schedule();
    else for (const done of drains.splice(0)) done();
  }

  /**
   * Applies one command (or a batch finisher) in its own savepoint: its effects, undos and
   * finishers count only if it succeeds. A storage fault is not the command's: it fails the batch.
   */
  async function applyInSavepoint(apply: Command<unknown>, at: number, undos: (() => void)[], finishers: Finishers): Promise<Outcome> {
    const tx = new CommandTx(at, finishers);
    try {
      const value = await store.savepoint(() => apply(tx));
      if (tx.undos) undos.push(...tx.undos);
      if (tx.finishers) for (const [key, finish] of tx.finishers) if (!finishers.has(key)) finishers.set(key, finish);
      return { ok: true, value, effects: tx.effects ?? NO_EFFECTS };
    } catch (error) {
      if (tx.undos) runEffects(tx.undos.reverse());
      // A full disk or an I/O error is not this command's fault: the whole batch fails (and the
      // kernel recovers), rather than one caller hearing a raw storage error as its own failure.
      if (isStorageFault(error)) throw new BatchFailed(error);
      // The store cannot tell whose write failed: the batch goes again, carefully.
      if (error instanceof RetryCarefully) throw error;
      return { ok: false, error };
    }
  }

  /**
   * Runs the batch's finishers (which may ask for more: a Map iterates over entries added while it
   * runs) and returns their effects. A finisher that fails fails the whole batch: what it was to do
   * (wake a run) must not be lost while the change that asked for it commits.
   */
  async function runFinishers(finishers: Finishers, at: number, undos: (() => void)[]): Promise<(() => void)[]> {
    const effects: (() => void)[] = [];
    for (const finish of finishers.values()) {
      const outcome = await applyInSavepoint(finish, at, undos, finishers);
      if (!outcome.ok && outcome.error instanceof RetryCarefully) throw outcome.error;
      if (!outcome.ok) throw new BatchFailed(outcome.error);
      effects.push(...outcome.effects);
    }
    return effects;
  }

  async function commitBatch(batch: Queued[], careful = false): Promise<void> {
    const outcomes: Outcome[] = [];
    const undos: (() => void)[] = [];
    const finishers: Finishers = new Map();
    let finisherEffects: (() => void)[] = [];
    const at = now();
    const prefetch = batch.flatMap((item) => (item.hint ? [item.hint] : []));
    // One caller that needs the disk makes the whole batch wait for it (one fsync covers all). A
    // store without `syncLog` commits every batch durably (PostgreSQL here).
    const durable = !store.syncLog || batch.some((item) => item.durable);
    try {
      await store.transaction(
        async () => {
          for (const item of batch) outcomes.push(await applyInSavepoint(item.apply, at, undos, finishers));
          finisherEffects = await runFinishers(finishers, at, undos);
          if (beforeCommit) await beforeCommit();
          crashPoint("before_commit");
        },
        { careful, prefetch, durable },
      );
    } catch (thrown) {
      // The transaction was rolled back (the store did it): nothing of the batch stands.
      runEffects(undos.splice(0).reverse());
      if (thrown instanceof RetryCarefully && !careful) {
        stats.carefulRetries++;
        return commitBatch(batch, true);
      }
      const error = asStorageFailure(thrown instanceof BatchFailed ? thrown.error : thrown);
      for (const item of batch) item.reject(error);
      onBatchFailed(error);
      return;
    }
    crashPoint("after_commit");
    // A durable commit's fsync of the log carries every relaxed commit before it.
    if (durable) {
      notYetDurable = false;
      if (lateSync) clearTimeout(lateSync);
      lateSync = null;
    } else {
      notYetDurable = true;
      durability.relaxedBatches++;
      // Durable soon even when no durable commit follows (an ask queued behind a busy instance).
      lateSync ??= setTimeout(() => {
        lateSync = null;
        syncLog().catch(onEffectError);
      }, RELAXED_SYNC_MS);
      lateSync.unref?.();
    }
    stats.batches++;
    stats.commands += batch.length;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    // The finishers' effects (runs leased at the end of the batch) go first: callers resolved
    // below may act on those runs at once.
    runEffects(finisherEffects);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        runEffects(outcome.effects);
        item.resolve(outcome.value);
      } else {
        item.reject(outcome.error);
      }
    });
    // Listeners (event streams, live pages) hear of a relaxed batch once it is durable: with the
    // next durable commit or sync, so no event they send can be taken back by a machine crash.
    if (durable) onCommitted();
  }

  async function syncLog(): Promise<void> {
    if (!notYetDurable) return;
    // Cleared first: a relaxed commit made while the sync runs sets it again (SQLite's syncs are
    // synchronous, so none can; a store whose sync waits would keep that one for the next call).
    notYetDurable = false;
    try {
      await store.syncLog?.();
    } catch (error) {
      notYetDurable = true;
      throw error;
    }
    durability.logSyncs++;
    onCommitted();
  }

  return {
    stats,
    durability,
    submit<T>(command: Command<T>, hint?: PrefetchHint, options?: SubmitOptions): Promise<T> {
      if (closing) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.push({ apply: command, durable: options?.durable !== false, hint, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    submitFirst<T>(command: Command<T>): Promise<T> {
      if (closing) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.unshift({ apply: command, durable: true, hint: undefined, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    syncLog,
    drain() {
      if (queue.length === 0 && !scheduled && !flushing) return Promise.resolve();
      return new Promise<void>((resolve) => drains.push(resolve));
    },
    async close() {
      if (closing) return;
      closing = true;
      if (queue.length > 0 || scheduled || flushing) await new Promise<void>((resolve) => drains.push(resolve));
      if (lateSync) clearTimeout(lateSync);
      lateSync = null;
      closed = true;
    },
  };
}
