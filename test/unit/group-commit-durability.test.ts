import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { createGroupCommitQueue, type GroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { createStore, type Store } from "../../src/store/index.ts";
import { eventually, tempDatabase } from "../helpers/temp-dir.ts";

function insert(store: Store, id: string): Promise<void> {
  return store.insertRun({ id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now: 1 });
}

describe("createGroupCommitQueue: commits that need not wait for the disk", () => {
  let store: Store;
  let queue: GroupCommitQueue;
  /** Times this test's queue told its listeners of a commit (the change feed). */
  let told: number;

  beforeEach(() => {
    store = createStore(tempDatabase());
    told = 0;
    // Counted for this test's queue only: an earlier test's queue must not count here.
    const mine = { queue: undefined as GroupCommitQueue | undefined };
    queue = mine.queue = createGroupCommitQueue(store, () => 42, () => {}, () => {}, () => {
      if (queue === mine.queue) told++;
    });
  });

  afterEach(async () => {
    // Closing the queue stops its late sync, which would otherwise run after this test.
    await queue.close();
    await store.close();
  });

  test("a batch of commands that all say durable: false commits without waiting for the disk", async () => {
    await Promise.all(["a", "b"].map((id) => queue.submit(() => insert(store, id), undefined, { durable: false })));
    expect(queue.stats.batches).toBe(1);
    expect(queue.durability.relaxedBatches).toBe(1);
    expect(await store.reads.getRun("b")).not.toBeNull();
  });

  test("one command that needs the disk makes its whole batch wait for it", async () => {
    await Promise.all([queue.submit(() => insert(store, "a"), undefined, { durable: false }), queue.submit(() => insert(store, "b"))]);
    expect(queue.stats.batches).toBe(1);
    expect(queue.durability.relaxedBatches).toBe(0);
  });

  test("syncLog syncs only when a relaxed commit came after the last durable one", async () => {
    await queue.syncLog();
    expect(queue.durability.logSyncs).toBe(0);
    await queue.submit(() => insert(store, "a"), undefined, { durable: false });
    await queue.syncLog();
    expect(queue.durability.logSyncs).toBe(1);
    await queue.syncLog();
    expect(queue.durability.logSyncs).toBe(1);
    await queue.submit(() => insert(store, "b"), undefined, { durable: false });
    await queue.submit(() => insert(store, "c"));
    // The durable commit's fsync carried the relaxed one before it (on a slow machine the late
    // sync may have run in between: either way this call has nothing left to sync).
    const synced = queue.durability.logSyncs;
    await queue.syncLog();
    expect(queue.durability.logSyncs).toBe(synced);
  });

  test("listeners hear of a relaxed batch only once it is durable: at the next sync (or durable commit)", async () => {
    await queue.submit(() => insert(store, "a"), undefined, { durable: false });
    expect(told).toBe(0);
    await queue.syncLog();
    expect(told).toBe(1);
    await queue.submit(() => insert(store, "b"));
    expect(told).toBe(2);
  });

  test("a relaxed commit that no durable one follows is synced by itself soon after", async () => {
    await queue.submit(() => insert(store, "a"), undefined, { durable: false });
    await eventually(() => (queue.durability.logSyncs === 1 ? true : undefined), 5_000, "the late sync of the relaxed commit");
    expect(told).toBe(1);
  });
});
