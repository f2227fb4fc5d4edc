/**
 * The kernel and its commit queue when the store itself fails: a failed start-up recovery ends
 * the kernel (nothing goes on writing after `open` said no), a command whose writes cannot be
 * undone fails its whole batch, and a disk that stays full through several recoveries holds the
 * run back only until there is room again.
 */
import { expect, test } from "bun:test";
import { createConsola } from "consola";
import { createInProcessRunner, createScheduler, describeDefinitions, fixedCatalog, indexDefinitions, readRunHistory } from "../../src/core/index.ts";
import { createGroupCommitQueue } from "../../src/kernel/group-commit.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { workflow } from "../../src/sdk/index.ts";
import { createManualClock, createLogger, systemClock, VilanoError } from "../../src/shared/index.ts";
import { createStore, StorageFault, type Store } from "../../src/store/index.ts";
import { eventually, tempDatabase, tempDir } from "../helpers/temp-dir.ts";

const executor = { dispatch() {}, reserve: () => false, release() {}, runLeased() {}, abort() {}, deliver() {}, runEnded() {}, room: () => 0, holds: () => false };
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

test("a commit fails and the recoveries after it fail too while the disk stays full: once there is room the run finishes, each step recorded once", async () => {
  const store = createStore(tempDatabase());
  // The disk is full from inside a step on: every commit after that fails as SQLite's does (the
  // batch's writes are made, then the commit is refused and they are rolled back), recoveries too.
  let full = false;
  let refusedCommits = 0;
  const disk = new Proxy(store, {
    get(target, key) {
      if (key === "transaction")
        return (fn: () => Promise<unknown>, options?: unknown) =>
          target.transaction(async () => {
            const value = await fn();
            if (full) {
              refusedCommits++;
              throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
            }
            return value;
          }, options as never);
      return Reflect.get(target, key, target);
    },
  }) as Store;
  const STEPS = 10;
  const FULL_AT = 4;
  const calls = new Array<number>(STEPS).fill(0);
  const steps = workflow({
    name: "steps",
    run: async (_input: void, ctx) => {
      let total = 0;
      for (let i = 0; i < STEPS; i++) {
        total += await ctx.step("count", () => {
          calls[i]!++;
          if (i === FULL_AT && calls[i] === 1) full = true;
          return i;
        });
      }
      return total;
    },
  });
  const logged: string[] = [];
  const logger = createConsola({ level: 3, reporters: [{ log: (entry) => logged.push(entry.args.map(String).join(" ")) }] });
  const definitions = indexDefinitions([steps]);
  const kernel = createKernel({ store: disk, logger });
  const runner = createInProcessRunner({ kernel, definitions: () => definitions, clock: systemClock, logger, exec: { workspace: tempDir(), baseEnv: {} } });
  const scheduler = createScheduler({ kernel, catalog: fixedCatalog(describeDefinitions([...definitions.workflows.values()], [])), runner, logger, maxConcurrent: 4 });
  try {
    await kernel.open(scheduler);
    const { run } = await kernel.startRun({ name: "steps", input: null });
    // The recovery after the failed commit fails, and so does the one after it (200 ms later).
    const recoveryFailed = () => logged.filter((line) => line.includes("recovery after a failed commit could not commit either")).length;
    await eventually(() => (recoveryFailed() >= 2 ? true : undefined), 20_000, "two recoveries to fail on the full disk");
    expect((await kernel.getRun(run.id))!.status).not.toBe("completed");
    expect(calls[FULL_AT + 1]).toBe(0);

    full = false;
    const finished = await kernel.waitForTerminal(run.id, AbortSignal.timeout(30_000));
    expect(finished.status).toBe("completed");
    expect(finished.output).toBe(JSON.stringify((STEPS * (STEPS - 1)) / 2));
    const { ops, events } = (await readRunHistory(disk.reads, run.id))!;
    expect(ops).toHaveLength(STEPS);
    const recorded = events.filter((e) => e.type === "step_completed").map((e) => (JSON.parse(e.body!) as { opKey: string }).opKey);
    expect(recorded).toHaveLength(STEPS);
    expect(new Set(recorded).size).toBe(STEPS);
    expect(events.some((e) => e.type === "run_recovered")).toBe(true);
    // The step whose result the full disk refused ran again; nothing acknowledged ran twice.
    expect(calls[FULL_AT]).toBeGreaterThanOrEqual(2);
    expect(calls.slice(FULL_AT + 1)).toEqual(new Array(STEPS - FULL_AT - 1).fill(1));
    expect(refusedCommits).toBeGreaterThanOrEqual(3);
  } finally {
    scheduler.close();
    await kernel.close();
    await runner.close();
    await store.close();
  }
}, 60_000);
