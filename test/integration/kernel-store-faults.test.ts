/**
 * The kernel and its commit queue when the store itself fails: a failed start-up recovery ends
 * the kernel (nothing goes on writing after `open` said no), and a command whose writes cannot be
 * undone fails its whole batch.
 */
import { expect, test } from "bun:test";
import { createGroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { createManualClock, createLogger, VilanoError } from "../../src/shared/index.ts";
import { createStore, StorageFault, type Store } from "../../src/store/index.ts";

const executor = { dispatch() {}, reserve: () => false, release() {}, runLeased() {}, abort() {} };
const insert = (store: Store, id: string) =>
  store.insertRun({ id, kind: "workflow", name: "w", status: "pending", input: null, parentId: null, project: "", snapshotId: null, now: 1 });

test("a kernel whose start-up recovery fails on a full disk refuses to open and writes nothing more", async () => {
  const store = createStore(":memory:");
  let transactions = 0;
  const diskFull = () => Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
  const failing = new Proxy(store, {
    get(target, key) {
      if (key === "transaction") return (fn: () => Promise<unknown>) => (transactions++, target.transaction(fn));
      if (key === "savepoint") return () => Promise.reject(diskFull());
      return Reflect.get(target, key, target);
    },
  }) as Store;
  const clock = createManualClock();
  const kernel = createKernel({ store: failing, clock, logger: createLogger("silent") });
  await expect(kernel.open(executor)).rejects.toMatchObject({ code: "storage_failed" });
  const atRefusal = transactions;
  // Every timer it could have left (recovery retries, the wake-up) would be due by now.
  for (let i = 0; i < 10; i++) clock.advance(10_000);
  await kernel.drain();
  expect(transactions).toBe(atRefusal);
  await expect(kernel.startRun({ name: "w", input: null })).rejects.toMatchObject({ code: "internal" });
  await store.close();
});

test("a command that fails and cannot be rolled back fails its whole batch: none of its writes commit", async () => {
  const store = createStore(":memory:");
  const undoable = new Proxy(store, {
    get(target, key) {
      if (key === "savepoint")
        return (fn: () => Promise<unknown>) =>
          target.savepoint(async () => {
            try {
              return await fn();
            } catch (error) {
              throw new StorageFault("ROLLBACK TO failed: disk I/O error", { cause: error });
            }
          });
      return Reflect.get(target, key, target);
    },
  }) as Store;
  const batchFailures: unknown[] = [];
  const queue = createGroupCommitQueue(undoable, () => 1, () => {}, (error) => batchFailures.push(error));
  const results = await Promise.allSettled([
    queue.submit(() => insert(store, "neighbour")),
    queue.submit(async () => {
      await insert(store, "partial");
      throw new VilanoError("validation_failed", "the command's own failure");
    }),
  ]);
  expect(results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "ok"))).toEqual(["storage_failed", "storage_failed"]);
  expect(batchFailures).toHaveLength(1);
  expect(await store.getRun("partial")).toBeNull();
  expect(await store.getRun("neighbour")).toBeNull();
  await store.close();
});
