import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGroupCommitQueue, type GroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { VilanoError } from "../../src/shared/errors.ts";
import { createStore, type Store } from "../../src/store/index.ts";

function insert(store: Store, id: string, now = 1): Promise<void> {
  return store.insertRun({ id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now });
}

describe("createGroupCommitQueue", () => {
  let store: Store;
  let queue: GroupCommitQueue;
  let effectErrors: unknown[];

  beforeEach(() => {
    store = createStore(":memory:");
    effectErrors = [];
    queue = createGroupCommitQueue(store, () => 42, (error) => effectErrors.push(error));
  });

  afterEach(async () => {
    await store.close();
  });

  test("commits commands submitted in the same tick in one batch", async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `run_${i}`);
    await Promise.all(ids.map((id) => queue.submit(() => insert(store, id))));
    expect(queue.stats).toEqual({ batches: 1, commands: 25, largestBatch: 25, carefulRetries: 0 });
    const rows = await Promise.all(ids.map((id) => store.getRun(id)));
    expect(rows.every((row) => row !== null)).toBe(true);
  });

  test("a batch finisher runs once per key, after every command and before the commit, and not for a rolled-back command", async () => {
    const order: string[] = [];
    const finish = (label: string) => async () => {
      order.push(`finish ${label}`);
      await insert(store, `finished-${label}`);
    };
    await Promise.all([
      queue.submit(async (tx) => {
        order.push("command 1");
        tx.atEnd("wake:x", finish("x"));
      }),
      queue.submit(async (tx) => {
        order.push("command 2");
        tx.atEnd("wake:x", finish("x again"));
        tx.atEnd("wake:y", finish("y"));
      }),
      queue
        .submit(async (tx) => {
          tx.atEnd("wake:z", finish("z"));
          throw new Error("rolled back");
        })
        .catch(() => order.push("command 3 rolled back")),
    ]);
    expect(order).toEqual(["command 1", "command 2", "finish x", "finish y", "command 3 rolled back"]);
    expect(queue.stats.batches).toBe(1);
    const rows = await Promise.all(["finished-x", "finished-y", "finished-z", "finished-x again"].map((id) => store.getRun(id)));
    expect(rows.map((row) => row !== null)).toEqual([true, true, false, false]);
  });

  test("a finisher that throws fails the whole batch: what it was to do is never lost while the rest commits", async () => {
    const failed: unknown[] = [];
    const failing = createGroupCommitQueue(store, () => 1, (error) => effectErrors.push(error), (error) => failed.push(error));
    const outcome = await failing
      .submit(async (tx) => {
        await insert(store, "not-kept");
        tx.atEnd("bad", async () => {
          await insert(store, "dropped");
          throw new Error("finisher failed");
        });
      })
      .then(() => "committed", (error: { code?: string }) => error.code);
    expect(outcome).toBe("storage_failed");
    expect([await store.getRun("not-kept"), await store.getRun("dropped")]).toEqual([null, null]);
    expect(failed).toHaveLength(1);
  });

  test("commits commands submitted in different ticks in separate batches", async () => {
    await queue.submit(() => insert(store, "a"));
    await queue.submit(() => insert(store, "b"));
    expect(queue.stats.batches).toBe(2);
  });

  test("resolves each caller with its command's return value", async () => {
    const values = await Promise.all([queue.submit(async () => "first"), queue.submit(async () => 2), queue.submit(async () => ({ three: 3 }))]);
    expect(values).toEqual(["first", 2, { three: 3 }]);
  });

  test("gives each command the batch clock reading", async () => {
    const seen = await Promise.all([queue.submit(async (tx) => tx.now), queue.submit(async (tx) => tx.now)]);
    expect(seen).toEqual([42, 42]);
  });

  test("runs commands inside a transaction", async () => {
    expect(await queue.submit(async () => store.inTransaction)).toBe(true);
  });

  test("rejects a command that throws with its own error", async () => {
    const boom = new Error("boom");
    const failing = queue.submit(async () => {
      throw boom;
    });
    await expect(failing).rejects.toBe(boom);
  });

  test("commits the other commands of a batch in which one throws", async () => {
    const results = await Promise.allSettled([
      queue.submit(() => insert(store, "before")),
      queue.submit(async () => {
        throw new Error("boom");
      }),
      queue.submit(() => insert(store, "after")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect([(await store.getRun("before"))?.id, (await store.getRun("after"))?.id]).toEqual(["before", "after"]);
    expect(queue.stats.batches).toBe(1);
  });

  test("rolls back the partial writes of a command that throws", async () => {
    const results = await Promise.allSettled([
      queue.submit(() => insert(store, "kept")),
      queue.submit(async () => {
        await insert(store, "partial-1");
        await insert(store, "partial-2");
        throw new Error("half done");
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(await store.getRun("kept")).not.toBeNull();
    expect(await store.getRun("partial-1")).toBeNull();
    expect(await store.getRun("partial-2")).toBeNull();
  });

  test("rolls back a command whose SQL fails and keeps its neighbours", async () => {
    await insert(store, "existing");
    const results = await Promise.allSettled([
      queue.submit(async () => {
        await insert(store, "fresh");
        await insert(store, "existing"); // primary key conflict
      }),
      queue.submit(() => insert(store, "neighbour")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(await store.getRun("fresh")).toBeNull();
    expect(await store.getRun("neighbour")).not.toBeNull();
  });

  test("runs tx.after effects only after the commit", async () => {
    const observed: boolean[] = [];
    await queue.submit(async (tx) => {
      await insert(store, "r");
      tx.after(() => observed.push(store.inTransaction));
      observed.push(store.inTransaction);
    });
    expect(observed).toEqual([true, false]);
  });

  test("does not run the effects of a command that throws", async () => {
    const ran: string[] = [];
    await Promise.allSettled([
      queue.submit(async (tx) => {
        tx.after(() => ran.push("failed"));
        throw new Error("boom");
      }),
      queue.submit(async (tx) => tx.after(() => ran.push("ok"))),
    ]);
    expect(ran).toEqual(["ok"]);
  });

  test("runs effects in submission order", async () => {
    const ran: string[] = [];
    await Promise.all([
      queue.submit(async (tx) => {
        tx.after(() => ran.push("a1"));
        tx.after(() => ran.push("a2"));
      }),
      queue.submit(async (tx) => tx.after(() => ran.push("b1"))),
    ]);
    expect(ran).toEqual(["a1", "a2", "b1"]);
  });

  test("sees committed rows from inside an effect", async () => {
    // An effect runs outside the writer's transaction, so it reads through `reads` (committed state only).
    let seen: Promise<string | undefined> | undefined;
    await queue.submit(async (tx) => {
      await insert(store, "visible");
      tx.after(() => (seen = store.reads.getRun("visible").then((row) => row?.status)));
    });
    expect(await seen).toBe("pending");
  });

  test("reports a throwing effect and still resolves its caller", async () => {
    const effectError = new Error("effect failed");
    const value = await queue.submit(async (tx) => {
      tx.after(() => {
        throw effectError;
      });
      return "done";
    });
    expect(value).toBe("done");
    expect(effectErrors).toEqual([effectError]);
  });

  test("keeps running later effects after one throws", async () => {
    const ran: string[] = [];
    await queue.submit(async (tx) => {
      tx.after(() => {
        throw new Error("first");
      });
      tx.after(() => ran.push("second"));
    });
    expect(ran).toEqual(["second"]);
  });

  test("resolves callers only after the commit", async () => {
    const states = await Promise.all(
      [1, 2, 3].map((i) => queue.submit(() => insert(store, `r${i}`)).then(() => store.inTransaction)),
    );
    expect(states).toEqual([false, false, false]);
  });

  test("splits more than 1000 queued commands into batches of at most 1000", async () => {
    await Promise.all(Array.from({ length: 1_001 }, (_, i) => queue.submit(() => insert(store, `r${i}`))));
    expect(queue.stats).toEqual({ batches: 2, commands: 1_001, largestBatch: 1_000, carefulRetries: 0 });
    expect(await store.getRun("r1000")).not.toBeNull();
  });

  test("rejects every command of a batch when the transaction cannot begin", async () => {
    // Another connection holding the write lock makes BEGIN IMMEDIATE fail (SQLITE_BUSY, no waiting).
    const dir = mkdtempSync(join(tmpdir(), "vilano-group-commit-"));
    const path = join(dir, "busy.db");
    const fileStore = createStore(path, { busyTimeoutMs: 0, checkpointThread: false });
    const other = new Database(path);
    try {
      const failed: unknown[] = [];
      const fileQueue = createGroupCommitQueue(fileStore, () => 1, (error) => effectErrors.push(error), (error) => failed.push(error));
      other.run("PRAGMA busy_timeout = 0");
      other.run("BEGIN IMMEDIATE"); // a transaction left open elsewhere
      const results = await Promise.allSettled([fileQueue.submit(async () => 1), fileQueue.submit(async () => 2)]);
      other.run("ROLLBACK");
      expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
      expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(VilanoError);
      expect(((results[0] as PromiseRejectedResult).reason as VilanoError).code).toBe("storage_failed");
      expect(fileQueue.stats.batches).toBe(0);
      expect(failed).toHaveLength(1);
      expect(fileStore.inTransaction).toBe(false);
    } finally {
      other.close();
      await fileStore.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("rejects every command, runs no effect and keeps no write when the commit fails", async () => {
    const commitError = new Error("disk full");
    // The store's COMMIT is inside `transaction`: a store whose commit fails rolls back and rejects
    // the transaction after `fn` resolved.
    const failingCommit = new Proxy(store, {
      get(target, key) {
        if (key === "transaction") {
          return <T>(fn: () => Promise<T>) =>
            target.transaction(async () => {
              await fn();
              throw commitError;
            });
        }
        return Reflect.get(target, key, target);
      },
    });
    const failingQueue = createGroupCommitQueue(failingCommit, () => 1, (error) => effectErrors.push(error));
    const ran: string[] = [];
    const results = await Promise.allSettled([
      failingQueue.submit(async (tx) => {
        await insert(store, "lost");
        tx.after(() => ran.push("effect"));
      }),
      failingQueue.submit(async () => 2),
    ]);
    // Callers hear storage_failed, caused by what the database said.
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string; cause: unknown }) : null));
    expect(reasons.map((r) => [r?.code, r?.cause])).toEqual([["storage_failed", commitError], ["storage_failed", commitError]]);
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
    expect(await store.getRun("lost")).toBeNull();
    expect(failingQueue.stats.batches).toBe(0);
  });

  test("rejects the whole batch and keeps no write when the savepoint machinery fails", async () => {
    // What SQLite says when the file fails under a savepoint (a storage fault, not the command's).
    const ioError = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    let savepoints = 0;
    const failingSavepoint = new Proxy(store, {
      get(target, key) {
        if (key === "savepoint") {
          return <T>(fn: () => Promise<T>) => {
            if (++savepoints === 2) return Promise.reject(ioError);
            return target.savepoint(fn);
          };
        }
        return Reflect.get(target, key, target);
      },
    });
    const failingQueue = createGroupCommitQueue(failingSavepoint, () => 1, (error) => effectErrors.push(error));
    const ran: string[] = [];
    const results = await Promise.allSettled([
      failingQueue.submit(async (tx) => {
        await insert(store, "first");
        tx.after(() => ran.push("first"));
      }),
      failingQueue.submit(() => insert(store, "second")),
      failingQueue.submit(() => insert(store, "third")),
    ]);
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string; cause: unknown }) : null));
    expect(reasons.map((r) => [r?.code, r?.cause])).toEqual([["storage_failed", ioError], ["storage_failed", ioError], ["storage_failed", ioError]]);
    expect([await store.getRun("first"), await store.getRun("second"), await store.getRun("third")]).toEqual([null, null, null]);
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
    expect(failingQueue.stats.batches).toBe(0);
  });

  test("drain resolves once everything submitted is committed", async () => {
    void queue.submit(() => insert(store, "a"));
    void queue.submit(() => insert(store, "b"));
    await queue.drain();
    expect([(await store.getRun("a"))?.id, (await store.getRun("b"))?.id]).toEqual(["a", "b"]);
  });

  test("drain resolves at once when nothing is queued", async () => {
    await queue.drain();
    expect(queue.stats.batches).toBe(0);
  });

  test("close commits what was already submitted", async () => {
    const pending = queue.submit(() => insert(store, "last"));
    await queue.close();
    await pending;
    expect(await store.getRun("last")).not.toBeNull();
  });

  test("close refuses new commands with runtime_closed", async () => {
    await queue.close();
    const error = await queue.submit(async () => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VilanoError);
    expect((error as VilanoError).code).toBe("runtime_closed");
  });

  // applyNow (a command run at once in its own transaction, for recovery) is gone: recovery goes
  // through submitFirst, which puts the command first in the next batch.
  test("submitFirst commits a command first in its batch and then runs its effects", async () => {
    const order: string[] = [];
    const observed: boolean[] = [];
    const later = queue.submit(async (tx) => {
      order.push("later");
      await insert(store, "later");
      tx.after(() => order.push("later effect"));
    });
    const value = await queue.submitFirst(async (tx) => {
      order.push("recovery");
      await insert(store, "recovered");
      tx.after(() => {
        observed.push(store.inTransaction);
        order.push("recovery effect");
      });
      return tx.now;
    });
    await later;
    expect(value).toBe(42);
    expect(observed).toEqual([false]);
    expect(order).toEqual(["recovery", "later", "recovery effect", "later effect"]);
    expect(queue.stats.batches).toBe(1);
    expect(await store.getRun("recovered")).not.toBeNull();
  });

  test("submitFirst rolls back and rejects when its command throws", async () => {
    const boom = new Error("boom");
    const ran: string[] = [];
    await expect(
      queue.submitFirst(async (tx) => {
        await insert(store, "gone");
        tx.after(() => ran.push("effect"));
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await store.getRun("gone")).toBeNull();
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
  });
});
