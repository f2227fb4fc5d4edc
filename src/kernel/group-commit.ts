/**
 * Group commit: callers submit commands; the queue applies a whole batch in one IMMEDIATE
 * transaction (one fsync), each command inside its own savepoint so a failing command rolls back
 * alone, and resolves the callers only after COMMIT returned. Post-commit effects (dispatching a
 * run, arming a timer, waking a waiter) run after the commit, in submission order.
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
}

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
  /** Runs a command at once in its own transaction; for start-up recovery only. */
  applyNow<T>(command: Command<T>): T;
  /** Resolves when everything submitted so far is committed. */
  drain(): Promise<void>;
  /** Refuses new commands, commits those already submitted, then stops. */
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
}

const MAX_BATCH = 1_000;

export function createGroupCommitQueue(store: Store, now: () => number, onEffectError: (error: unknown) => void): GroupCommitQueue {
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

  function commitBatch(batch: Queued[]): void {
    const outcomes: ({ ok: true; value: unknown; effects: (() => void)[] } | { ok: false; error: unknown })[] = [];
    const undos: (() => void)[] = [];
    const undoAll = () => runEffects(undos.splice(0).reverse());
    const at = now();
    try {
      store.begin();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    try {
      for (const item of batch) {
        const effects: (() => void)[] = [];
        const commandUndos: (() => void)[] = [];
        const tx: Tx = { now: at, after: (effect) => void effects.push(effect), onRollback: (undo) => void commandUndos.push(undo) };
        store.savepoint();
        try {
          const value = item.apply(tx);
          store.release();
          undos.push(...commandUndos);
          outcomes.push({ ok: true, value, effects });
        } catch (error) {
          store.rollbackToSavepoint();
          runEffects(commandUndos.reverse());
          outcomes.push({ ok: false, error });
        }
      }
    } catch (error) {
      // The savepoint machinery itself failed (I/O error, full disk): nothing in the batch stands.
      store.rollback();
      undoAll();
      for (const item of batch) item.reject(error);
      return;
    }
    try {
      store.commit();
    } catch (error) {
      store.rollback();
      undoAll();
      for (const item of batch) item.reject(error);
      return;
    }
    stats.batches++;
    stats.commands += batch.length;
    stats.largestBatch = Math.max(stats.largestBatch, batch.length);
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) {
        runEffects(outcome.effects);
        item.resolve(outcome.value);
      } else {
        item.reject(outcome.error);
      }
    });
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
    applyNow<T>(command: Command<T>): T {
      const effects: (() => void)[] = [];
      const undos: (() => void)[] = [];
      store.begin();
      try {
        const value = command({ now: now(), after: (effect) => void effects.push(effect), onRollback: (undo) => void undos.push(undo) });
        store.commit();
        runEffects(effects);
        return value;
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
