/**
 * What the store contract's cases share: the shape of a case, rows to start from, the writer's
 * transaction as the kernel uses it, and the cases of the transactions themselves.
 */
import { expect } from "bun:test";
import { RetryCarefully, type NewRun, type OpWrite, type RunRow, type Store } from "../../src/store/index.ts";

/** One statement's behaviour, against a fresh, empty store. */
export type Case = (store: Store) => Promise<void>;
/** A case for each statement of a group of the contract, and nothing else. */
export type CasesOf<Group> = { [K in keyof Group]-?: Case };

/** A time with a fraction: both stores must give it back exactly. */
export const NOW = 1_700_000_000_123.5;

/** Runs `fn` as the kernel runs a command: in the writer's transaction, in a savepoint of its own. */
export function inTx<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  return store.transaction(() => store.savepoint(fn));
}

export const newRun = (id: string, over: Partial<NewRun> = {}): NewRun => ({
  id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now: NOW, ...over,
});

/** Inserts workflow runs (committed). */
export async function withRuns(store: Store, ...ids: string[]): Promise<void> {
  await inTx(store, async () => {
    for (const id of ids) await store.insertRun(newRun(id));
  });
}

/** Inserts a service instance (committed). */
export async function withInstance(store: Store, id: string, project = "p"): Promise<void> {
  await inTx(store, () =>
    store.insertInstance({ id, project, snapshotId: "snap", name: "svc", serviceKey: `key-${id}`, keyInput: null, status: "idle", now: NOW }),
  );
}

export const op = (runId: string, opKey: string, seq: number, over: Partial<OpWrite> = {}): OpWrite => ({
  runId, opKey, seq, kind: "step", name: opKey, status: "waiting", attempt: 1, result: null, error: null, wakeAt: null, meta: null, now: NOW, ...over,
});

/** The same answer inside the writer's transaction (where a store may answer from what it holds) and from `reads` once committed. */
export async function seenBothWays<T>(store: Store, read: (ops: Store | Store["reads"]) => Promise<T>, expected: unknown): Promise<void> {
  expect<unknown>(await inTx(store, () => read(store))).toEqual(expected);
  expect<unknown>(await read(store.reads)).toEqual(expected);
}

/**
 * `write` inside one transaction between two reads of `id`'s row: the first lets a store answer the
 * second from what it holds (PostgreSQL's transaction cache follows its own writes), and the second
 * must equal the committed row `reads` sees afterwards, every column. Answers that row.
 */
export async function rowAfterWrite(store: Store, id: string, write: () => Promise<unknown>): Promise<RunRow> {
  const inside = await inTx(store, async () => {
    expect(await store.getRun(id)).not.toBeNull();
    await write();
    return store.getRun(id);
  });
  const committed = await store.reads.getRun(id);
  expect(inside).toEqual(committed);
  return committed!;
}

const boom = () => new Error("the command failed");

export const transactionCases: Record<string, Case> = {
  "a transaction commits its writes and answers its value; inTransaction holds only inside it": async (store) => {
    expect(store.inTransaction).toBe(false);
    const value = await store.transaction(async () => {
      expect(store.inTransaction).toBe(true);
      await store.insertRun(newRun("r1"));
      return 42;
    });
    expect(value).toBe(42);
    expect(store.inTransaction).toBe(false);
    expect((await store.reads.getRun("r1"))?.id).toBe("r1");
  },
  "a transaction that throws rolls back all of its writes and rethrows": async (store) => {
    await expect(
      store.transaction(async () => {
        await store.insertRun(newRun("r1"));
        await store.setMeta("k", "v");
        throw boom();
      }),
    ).rejects.toThrow("the command failed");
    expect(await store.reads.getRun("r1")).toBeNull();
    expect(await store.reads.getMeta("k")).toBeNull();
    expect(store.inTransaction).toBe(false);
  },
  "a failed savepoint rolls back its own command alone; the others commit": async (store) => {
    await store.transaction(
      async () => {
        await store.savepoint(() => store.insertRun(newRun("before")));
        await expect(
          store.savepoint(async () => {
            await store.insertRun(newRun("undone"));
            await store.setMeta("k", "undone");
            throw boom();
          }),
        ).rejects.toThrow("the command failed");
        // What the failed command wrote is gone for the rest of the transaction too.
        expect(await store.getRun("undone")).toBeNull();
        await store.savepoint(() => store.insertRun(newRun("after")));
      },
      // PostgreSQL sends a batch whose command failed after writing round again carefully (RetryCarefully): careful from the start.
      { careful: true },
    );
    expect((await store.reads.getRun("before"))?.id).toBe("before");
    expect((await store.reads.getRun("after"))?.id).toBe("after");
    expect(await store.reads.getRun("undone")).toBeNull();
    expect(await store.reads.getMeta("k")).toBeNull();
  },
  "a command that fails after writing, not careful: undone alone, or the batch is to go again carefully (RetryCarefully), never half-committed": async (store) => {
    let outcome: unknown = "committed";
    try {
      await store.transaction(async () => {
        await store.savepoint(() => store.insertRun(newRun("kept")));
        await store.savepoint(async () => {
          await store.insertRun(newRun("undone"));
          throw boom();
        }).catch((error: unknown) => {
          if (error instanceof RetryCarefully) throw error;
        });
      });
    } catch (error) {
      outcome = error;
    }
    if (outcome === "committed") {
      expect((await store.reads.getRun("kept"))?.id).toBe("kept");
    } else {
      expect(outcome).toBeInstanceOf(RetryCarefully);
      expect(await store.reads.getRun("kept")).toBeNull();
    }
    expect(await store.reads.getRun("undone")).toBeNull();
  },
  "reads from outside never see the open transaction's writes: not before it commits, never when it rolls back": async (store) => {
    let seenWhileOpen: Promise<unknown> | undefined;
    await expect(
      store.transaction(async () => {
        await store.insertRun(newRun("r1"));
        await store.setMeta("k", "v");
        // Asked while the transaction is open: answered from committed state (SQLite waits for the end, PostgreSQL reads the pool).
        seenWhileOpen = Promise.all([store.reads.getRun("r1"), store.reads.getMeta("k")]);
        throw boom();
      }),
    ).rejects.toThrow("the command failed");
    expect(await seenWhileOpen).toEqual([null, null]);
  },
  "a second transaction while one is open is refused; the first commits": async (store) => {
    await store.transaction(async () => {
      await store.insertRun(newRun("r1"));
      await expect(store.transaction(async () => {})).rejects.toMatchObject({ code: "internal" });
    });
    expect((await store.reads.getRun("r1"))?.id).toBe("r1");
  },
  "after close, a transaction is refused with runtime_closed": async (store) => {
    await store.close();
    await expect(store.transaction(async () => {})).rejects.toMatchObject({ code: "runtime_closed" });
  },
};
