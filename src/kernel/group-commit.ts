/**
 * Group commit: callers submit commands; the queue applies a whole batch in one IMMEDIATE
 * transaction (one fsync), each command inside its own savepoint so a failing command rolls back
 * alone, and resolves the callers only after COMMIT returned. Post-commit effects (dispatching a
 * run, arming a timer, waking a waiter) run after the commit: the batch finishers' first, then
 * each command's, in submission order.
 */
import { VilanoError } from "../shared/index.ts";
import type { Store } from "../store/index.ts";

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
  atEnd(key: string, finish: (tx: Tx) => void): void;
}

type Finishers = Map<string, (tx: Tx) => void>;

export type Command<T> = (tx: Tx) => T;

interface Queued {
  apply: Command<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitStats {
  batches: number;
  commands: number;
  largestBatch: number;
}

export interface GroupCommitQueue {
  submit<T>(command: Command<T>): Promise<T>;
  /** Like submit, but first in the next batch (recovery after a failed batch goes before anything else). */
  submitFirst<T>(command: Command<T>): Promise<T>;
  /** Runs a command at once in its own transaction; for start-up recovery only. */
  applyNow<T>(command: Command<T>): T;
  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void>;
  /** Refuses new commands, commits those already submitted, then stops. */
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
}

const MAX_BATCH = 1_000;

/** SQLite faults of the file or the machine (full disk, I/O, no memory), not of a command's logic. */
function isStorageFault(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^SQLITE_(FULL|IOERR|NOMEM|CANTOPEN|CORRUPT|NOTADB|READONLY|PROTOCOL)/.test(code);
}

/** What the callers of a failed batch hear: a VilanoError, `storage_failed` for anything raw. */
function asStorageFailure(error: unknown): unknown {
  if (error instanceof VilanoError) return error;
  return new VilanoError("storage_failed", `the database could not commit: ${(error as Error)?.message ?? String(error)}`, { cause: error });
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
): GroupCommitQueue {
  let queue: Queued[] = [];
  let scheduled = false;
  let closing = false;
  let closed = false;
  const drains: (() => void)[] = [];
  const stats: GroupCommitStats = { batches: 0, commands: 0, largestBatch: 0 };

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // setImmediate (not a microtask) so every activation woken by the previous commit gets to
    // submit its next command before this batch is cut.
    setImmediate(flush);
  };

  const runEffects = (effects: (() => void)[]) => {
    for (const effect of effects) {
      try {
        effect();
      } catch (error) {
        onEffectError(error);
      }
    }
  };

  function flush(): void {
    scheduled = false;
    if (closed) return;
    const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
    queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
    if (batch.length > 0) commitBatch(batch);
    if (queue.length > 0) schedule();
    else for (const done of drains.splice(0)) done();
  }

  /**
   * Applies one command (or a batch finisher) in its own savepoint: its effects, undos and
   * finishers count only if it succeeds.
   */
  function applyInSavepoint<T>(
    apply: (tx: Tx) => T,
    at: number,
    undos: (() => void)[],
    finishers: Finishers,
  ): { ok: true; value: T; effects: (() => void)[] } | { ok: false; error: unknown } {
    const effects: (() => void)[] = [];
    const commandUndos: (() => void)[] = [];
    const commandFinishers: Finishers = new Map();
    const tx: Tx = {
      now: at,
      after: (effect) => void effects.push(effect),
      onRollback: (undo) => void commandUndos.push(undo),
      atEnd: (key, finish) => void (finishers.has(key) || commandFinishers.has(key) || commandFinishers.set(key, finish)),
    };
    store.savepoint();
    try {
      const value = apply(tx);
      store.release();
      undos.push(...commandUndos);
      for (const [key, finish] of commandFinishers) if (!finishers.has(key)) finishers.set(key, finish);
      return { ok: true, value, effects };
    } catch (error) {
      // A full disk or an I/O error is not this command's fault: the whole batch fails (and the
      // kernel recovers), rather than one caller hearing a raw SQLite error as its own failure.
      try {
        if (isStorageFault(error)) throw error;
        store.rollbackToSavepoint();
      } finally {
        runEffects(commandUndos.reverse());
      }
      return { ok: false, error };
    }
  }

  /**
   * Runs the batch's finishers (which may ask for more: a Map iterates over entries added while it
   * runs) and returns their effects. A finisher that fails fails the whole batch: what it was to do
   * (wake a run) must not be lost while the change that asked for it commits.
   */
  function runFinishers(finishers: Finishers, at: number, undos: (() => void)[]): (() => void)[] {
    const effects: (() => void)[] = [];
    for (const finish of finishers.values()) {
      const outcome = applyInSavepoint(finish, at, undos, finishers);
      if (!outcome.ok) throw outcome.error;
      effects.push(...outcome.effects);
    }
    return effects;
  }

  function commitBatch(batch: Queued[]): void {
    const outcomes: ({ ok: true; value: unknown; effects: (() => void)[] } | { ok: false; error: unknown })[] = [];
    const undos: (() => void)[] = [];
    const finishers: Finishers = new Map();
    let finisherEffects: (() => void)[] = [];
    const undoAll = () => runEffects(undos.splice(0).reverse());
    const at = now();
    const fail = (thrown: unknown) => {
      const error = asStorageFailure(thrown);
      try {
        store.rollback();
      } catch {
        // The transaction is already gone; there is nothing left to roll back.
      }
      undoAll();
      for (const item of batch) item.reject(error);
      onBatchFailed(error);
    };
    try {
      store.begin();
    } catch (error) {
      return fail(error);
    }
    try {
      for (const item of batch) outcomes.push(applyInSavepoint(item.apply, at, undos, finishers));
      finisherEffects = runFinishers(finishers, at, undos);
    } catch (error) {
      // The savepoint machinery itself failed (I/O error, full disk): nothing in the batch stands.
      return fail(error);
    }
    try {
      store.commit();
    } catch (error) {
      return fail(error);
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
    onCommitted();
  }

  return {
    stats,
    submit<T>(command: Command<T>): Promise<T> {
      if (closing) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.push({ apply: command, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    submitFirst<T>(command: Command<T>): Promise<T> {
      if (closing) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
      return new Promise<T>((resolve, reject) => {
        queue.unshift({ apply: command, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      });
    },
    applyNow<T>(command: Command<T>): T {
      const undos: (() => void)[] = [];
      const finishers: Finishers = new Map();
      const at = now();
      store.begin();
      try {
        const outcome = applyInSavepoint(command, at, undos, finishers);
        if (!outcome.ok) throw outcome.error;
        const finisherEffects = runFinishers(finishers, at, undos);
        store.commit();
        runEffects(finisherEffects);
        runEffects(outcome.effects);
        return outcome.value;
      } catch (error) {
        store.rollback();
        runEffects(undos.reverse());
        throw error;
      }
    },
    drain() {
      if (queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => drains.push(resolve));
    },
    async close() {
      if (closing) return;
      closing = true;
      if (queue.length > 0 || scheduled) await new Promise<void>((resolve) => drains.push(resolve));
      closed = true;
    },
  };
}
