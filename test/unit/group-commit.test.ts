import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createGroupCommitQueue, type GroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { VilanoError } from "../../src/shared/errors.ts";
import { createStore, type Store } from "../../src/store/index.ts";

function insert(store: Store, id: string, now = 1): void {
  store.insertRun({ id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now });
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

  afterEach(() => {
    store.close();
  });

  test("commits commands submitted in the same tick in one batch", async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `run_${i}`);
    await Promise.all(ids.map((id) => queue.submit(() => insert(store, id))));
    expect(queue.stats).toEqual({ batches: 1, commands: 25, largestBatch: 25 });
    expect(ids.every((id) => store.getRun(id) !== null)).toBe(true);
  });

  test("a batch finisher runs once per key, after every command and before the commit, and not for a rolled-back command", async () => {
    const order: string[] = [];
    const finish = (label: string) => () => {
      order.push(`finish ${label}`);
      insert(store, `finished-${label}`);
    };
    await Promise.all([
      queue.submit((tx) => {
        order.push("command 1");
        tx.atEnd("wake:x", finish("x"));
      }),
      queue.submit((tx) => {
        order.push("command 2");
        tx.atEnd("wake:x", finish("x again"));
        tx.atEnd("wake:y", finish("y"));
      }),
      queue.submit((tx) => {
        tx.atEnd("wake:z", finish("z"));
        throw new Error("rolled back");
      }).catch(() => order.push("command 3 rolled back")),
    ]);
    expect(order).toEqual(["command 1", "command 2", "finish x", "finish y", "command 3 rolled back"]);
    expect(queue.stats.batches).toBe(1);
    expect(["finished-x", "finished-y", "finished-z", "finished-x again"].map((id) => store.getRun(id) !== null)).toEqual([true, true, false, false]);
  });

  test("a finisher that throws fails the whole batch: what it was to do is never lost while the rest commits", async () => {
    const failed: unknown[] = [];
    const failing = createGroupCommitQueue(store, () => 1, (error) => effectErrors.push(error), (error) => failed.push(error));
    const outcome = await failing
      .submit((tx) => {
        insert(store, "not-kept");
        tx.atEnd("bad", () => {
          insert(store, "dropped");
          throw new Error("finisher failed");
        });
      })
      .then(() => "committed", (error: { code?: string }) => error.code);
    expect(outcome).toBe("storage_failed");
    expect([store.getRun("not-kept"), store.getRun("dropped")]).toEqual([null, null]);
    expect(failed).toHaveLength(1);
  });

  test("commits commands submitted in different ticks in separate batches", async () => {
    await queue.submit(() => insert(store, "a"));
    await queue.submit(() => insert(store, "b"));
    expect(queue.stats.batches).toBe(2);
  });

  test("resolves each caller with its command's return value", async () => {
    const values = await Promise.all([queue.submit(() => "first"), queue.submit(() => 2), queue.submit(() => ({ three: 3 }))]);
    expect(values).toEqual(["first", 2, { three: 3 }]);
  });

  test("gives each command the batch clock reading", async () => {
    const seen = await Promise.all([queue.submit((tx) => tx.now), queue.submit((tx) => tx.now)]);
    expect(seen).toEqual([42, 42]);
  });

  test("runs commands inside a transaction", async () => {
    expect(await queue.submit(() => store.inTransaction)).toBe(true);
  });

  test("rejects a command that throws with its own error", async () => {
    const boom = new Error("boom");
    const failing = queue.submit(() => {
      throw boom;
    });
    await expect(failing).rejects.toBe(boom);
  });

  test("commits the other commands of a batch in which one throws", async () => {
    const results = await Promise.allSettled([
      queue.submit(() => insert(store, "before")),
      queue.submit(() => {
        throw new Error("boom");
      }),
      queue.submit(() => insert(store, "after")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect([store.getRun("before")?.id, store.getRun("after")?.id]).toEqual(["before", "after"]);
    expect(queue.stats.batches).toBe(1);
  });

  test("rolls back the partial writes of a command that throws", async () => {
    const results = await Promise.allSettled([
      queue.submit(() => insert(store, "kept")),
      queue.submit(() => {
        insert(store, "partial-1");
        insert(store, "partial-2");
        throw new Error("half done");
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    expect(store.getRun("kept")).not.toBeNull();
    expect(store.getRun("partial-1")).toBeNull();
    expect(store.getRun("partial-2")).toBeNull();
  });

  test("rolls back a command whose SQL fails and keeps its neighbours", async () => {
    insert(store, "existing");
    const results = await Promise.allSettled([
      queue.submit(() => {
        insert(store, "fresh");
        insert(store, "existing"); // primary key conflict
      }),
      queue.submit(() => insert(store, "neighbour")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "fulfilled"]);
    expect(store.getRun("fresh")).toBeNull();
    expect(store.getRun("neighbour")).not.toBeNull();
  });

  test("runs tx.after effects only after the commit", async () => {
    const observed: boolean[] = [];
    await queue.submit((tx) => {
      insert(store, "r");
      tx.after(() => observed.push(store.inTransaction));
      observed.push(store.inTransaction);
    });
    expect(observed).toEqual([true, false]);
  });

  test("does not run the effects of a command that throws", async () => {
    const ran: string[] = [];
    await Promise.allSettled([
      queue.submit((tx) => {
        tx.after(() => ran.push("failed"));
        throw new Error("boom");
      }),
      queue.submit((tx) => tx.after(() => ran.push("ok"))),
    ]);
    expect(ran).toEqual(["ok"]);
  });

  test("runs effects in submission order", async () => {
    const ran: string[] = [];
    await Promise.all([
      queue.submit((tx) => {
        tx.after(() => ran.push("a1"));
        tx.after(() => ran.push("a2"));
      }),
      queue.submit((tx) => tx.after(() => ran.push("b1"))),
    ]);
    expect(ran).toEqual(["a1", "a2", "b1"]);
  });

  test("sees committed rows from inside an effect", async () => {
    let seen: string | undefined;
    await queue.submit((tx) => {
      insert(store, "visible");
      tx.after(() => (seen = store.getRun("visible")?.status));
    });
    expect(seen).toBe("pending");
  });

  test("reports a throwing effect and still resolves its caller", async () => {
    const effectError = new Error("effect failed");
    const value = await queue.submit((tx) => {
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
    await queue.submit((tx) => {
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
    expect(queue.stats).toEqual({ batches: 2, commands: 1_001, largestBatch: 1_000 });
    expect(store.getRun("r1000")).not.toBeNull();
  });

  test("rejects every command of a batch when the transaction cannot begin", async () => {
    store.begin(); // a transaction left open makes BEGIN IMMEDIATE fail
    const results = await Promise.allSettled([queue.submit(() => 1), queue.submit(() => 2)]);
    store.rollback();
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(VilanoError);
    expect(((results[0] as PromiseRejectedResult).reason as VilanoError).code).toBe("storage_failed");
    expect(queue.stats.batches).toBe(0);
  });

  test("rejects every command, runs no effect and keeps no write when the commit fails", async () => {
    const commitError = new Error("disk full");
    const failingCommit = new Proxy(store, {
      get(target, key) {
        if (key === "commit") {
          return () => {
            throw commitError;
          };
        }
        return Reflect.get(target, key, target);
      },
    });
    const failingQueue = createGroupCommitQueue(failingCommit, () => 1, (error) => effectErrors.push(error));
    const ran: string[] = [];
    const results = await Promise.allSettled([
      failingQueue.submit((tx) => {
        insert(store, "lost");
        tx.after(() => ran.push("effect"));
      }),
      failingQueue.submit(() => 2),
    ]);
    // Callers hear storage_failed, caused by what the database said.
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string; cause: unknown }) : null));
    expect(reasons.map((r) => [r?.code, r?.cause])).toEqual([["storage_failed", commitError], ["storage_failed", commitError]]);
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
    expect(store.getRun("lost")).toBeNull();
    expect(failingQueue.stats.batches).toBe(0);
  });

  test("rejects the whole batch and keeps no write when the savepoint machinery fails", async () => {
    const ioError = new Error("disk I/O error");
    let savepoints = 0;
    const failingSavepoint = new Proxy(store, {
      get(target, key) {
        if (key === "savepoint") {
          return () => {
            if (++savepoints === 2) throw ioError;
            target.savepoint();
          };
        }
        return Reflect.get(target, key, target);
      },
    });
    const failingQueue = createGroupCommitQueue(failingSavepoint, () => 1, (error) => effectErrors.push(error));
    const ran: string[] = [];
    const results = await Promise.allSettled([
      failingQueue.submit((tx) => {
        insert(store, "first");
        tx.after(() => ran.push("first"));
      }),
      failingQueue.submit(() => insert(store, "second")),
      failingQueue.submit(() => insert(store, "third")),
    ]);
    const reasons = results.map((r) => (r.status === "rejected" ? (r.reason as { code: string; cause: unknown }) : null));
    expect(reasons.map((r) => [r?.code, r?.cause])).toEqual([["storage_failed", ioError], ["storage_failed", ioError], ["storage_failed", ioError]]);
    expect([store.getRun("first"), store.getRun("second"), store.getRun("third")]).toEqual([null, null, null]);
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
    expect(failingQueue.stats.batches).toBe(0);
  });

  test("drain resolves once everything submitted is committed", async () => {
    void queue.submit(() => insert(store, "a"));
    void queue.submit(() => insert(store, "b"));
    await queue.drain();
    expect([store.getRun("a")?.id, store.getRun("b")?.id]).toEqual(["a", "b"]);
  });

  test("drain resolves at once when nothing is queued", async () => {
    await queue.drain();
    expect(queue.stats.batches).toBe(0);
  });

  test("close commits what was already submitted", async () => {
    const pending = queue.submit(() => insert(store, "last"));
    await queue.close();
    await pending;
    expect(store.getRun("last")).not.toBeNull();
  });

  test("close refuses new commands with runtime_closed", async () => {
    await queue.close();
    const error = await queue.submit(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VilanoError);
    expect((error as VilanoError).code).toBe("runtime_closed");
  });

  test("applyNow commits a command at once and then runs its effects", () => {
    const observed: boolean[] = [];
    const value = queue.applyNow((tx) => {
      insert(store, "recovered");
      tx.after(() => observed.push(store.inTransaction));
      return tx.now;
    });
    expect(value).toBe(42);
    expect(observed).toEqual([false]);
    expect(store.getRun("recovered")).not.toBeNull();
  });

  test("applyNow rolls back and rethrows when its command throws", () => {
    const boom = new Error("boom");
    const ran: string[] = [];
    expect(() =>
      queue.applyNow((tx) => {
        insert(store, "gone");
        tx.after(() => ran.push("effect"));
        throw boom;
      }),
    ).toThrow(boom);
    expect(store.getRun("gone")).toBeNull();
    expect(ran).toEqual([]);
    expect(store.inTransaction).toBe(false);
  });
});
