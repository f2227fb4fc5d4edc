/** The contract's cases for `events`, `signals`, `run_waiters` and `meta`. */
import { expect } from "bun:test";
import type { EventStatements, MetaStatements, RunWaiterStatements, SignalStatements } from "../../src/store/contract.ts";
import { inTx, NOW, seenBothWays, withRuns, type CasesOf } from "./harness.ts";

export const eventCases = {
  appendEvent: async (store) => {
    await withRuns(store, "r1", "r2");
    await inTx(store, async () => {
      await store.appendEvent("r1", "run_started", '{"a":1}', NOW);
      await store.appendEvent("r2", "run_started", null, NOW);
      await store.appendEvent("r1", "step_completed", null, NOW + 1);
    });
    await inTx(store, () => store.appendEvent("r1", "run_completed", null, NOW + 2));
    // Each run numbers its own events, one after the other, across transactions.
    await seenBothWays(store, async (s) => (await s.listEvents("r1")).map((e) => [e.seq, e.type, e.body, e.at]), [
      [1, "run_started", '{"a":1}', NOW], [2, "step_completed", null, NOW + 1], [3, "run_completed", null, NOW + 2],
    ]);
    expect((await store.reads.listEvents("r2")).map((e) => e.seq)).toEqual([1]);
  },
  listEvents: async (store) => {
    await withRuns(store, "r1");
    expect(await store.reads.listEvents("r1")).toEqual([]);
    await inTx(store, async () => {
      for (const type of ["run_started", "step_completed", "run_completed"] as const) await store.appendEvent("r1", type, null, NOW);
    });
    expect((await store.reads.listEvents("r1", 1)).map((e) => e.seq)).toEqual([2, 3]);
    expect(await store.reads.listEvents("r1", 3)).toEqual([]);
    expect((await store.reads.listEvents("r1"))[0]).toEqual({ runId: "r1", seq: 1, type: "run_started", body: null, at: NOW });
  },
} satisfies CasesOf<EventStatements>;

export const signalCases = {
  insertSignal: async (store) => {
    await withRuns(store, "r1");
    const [first, second] = await inTx(store, async () => [
      await store.insertSignal("r1", "go", '{"x":1}', "buffered", null, NOW),
      await store.insertSignal("r1", "go", null, "consumed", "op-1", NOW + 1),
    ]);
    expect(second!).toBeGreaterThan(first!);
    expect(await store.reads.listSignals("r1")).toEqual([
      { id: first!, runId: "r1", name: "go", payload: '{"x":1}', status: "buffered", consumedBy: null, createdAt: NOW },
      { id: second!, runId: "r1", name: "go", payload: null, status: "consumed", consumedBy: "op-1", createdAt: NOW + 1 },
    ]);
  },
  takeBufferedSignal: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.insertSignal("r1", "go", '"first"', "buffered", null, NOW);
      await store.insertSignal("r1", "other", '"x"', "buffered", null, NOW);
      await store.insertSignal("r1", "go", '"second"', "buffered", null, NOW);
    });
    const taken = await inTx(store, () => store.takeBufferedSignal("r1", "go", "op-1"));
    expect(taken).toMatchObject({ runId: "r1", name: "go", payload: '"first"', status: "consumed", consumedBy: "op-1" });
    expect((await inTx(store, () => store.takeBufferedSignal("r1", "go", "op-2")))?.payload).toBe('"second"');
    expect(await inTx(store, () => store.takeBufferedSignal("r1", "go", "op-3"))).toBeNull();
    expect((await store.reads.listSignals("r1")).map((s) => [s.name, s.status, s.consumedBy])).toEqual([
      ["go", "consumed", "op-1"], ["other", "buffered", null], ["go", "consumed", "op-2"],
    ]);
  },
  listSignals: async (store) => {
    await withRuns(store, "r1", "r2");
    expect(await store.reads.listSignals("r1")).toEqual([]);
    await inTx(store, async () => {
      await store.insertSignal("r1", "b", null, "buffered", null, NOW);
      await store.insertSignal("r2", "x", null, "buffered", null, NOW);
      await store.insertSignal("r1", "a", null, "buffered", null, NOW);
    });
    await seenBothWays(store, async (s) => (await s.listSignals("r1")).map((x) => x.name), ["b", "a"]);
  },
} satisfies CasesOf<SignalStatements>;

export const runWaiterCases = {
  addRunWaiter: async (store) => {
    await withRuns(store, "target", "w1", "w2");
    await inTx(store, async () => {
      await store.addRunWaiter("target", "w2", "op-b", NOW + 1);
      await store.addRunWaiter("target", "w1", "op-a", NOW);
      await store.addRunWaiter("target", "w1", "op-a", NOW + 5); // once
    });
    expect(await inTx(store, () => store.takeRunWaiters("target"))).toEqual([
      { waiterId: "w1", opKey: "op-a" }, { waiterId: "w2", opKey: "op-b" },
    ]);
  },
  takeRunWaiters: async (store) => {
    await withRuns(store, "target", "other", "w1");
    await inTx(store, async () => {
      await store.addRunWaiter("target", "w1", "op-b", NOW);
      await store.addRunWaiter("target", "w1", "op-a", NOW);
      await store.addRunWaiter("other", "w1", "op-c", NOW);
    });
    // Oldest first, then by waiter and op key; taken once.
    expect(await inTx(store, () => store.takeRunWaiters("target"))).toEqual([{ waiterId: "w1", opKey: "op-a" }, { waiterId: "w1", opKey: "op-b" }]);
    expect(await inTx(store, () => store.takeRunWaiters("target"))).toEqual([]);
    // A rolled-back take leaves them.
    await expect(store.transaction(async () => {
      expect(await store.takeRunWaiters("other")).toEqual([{ waiterId: "w1", opKey: "op-c" }]);
      throw new Error("rolled back");
    })).rejects.toThrow("rolled back");
    expect(await store.reads.takeRunWaiters("other")).toEqual([{ waiterId: "w1", opKey: "op-c" }]);
  },
  moveRunWaiters: async (store) => {
    await withRuns(store, "old", "new", "w1");
    await inTx(store, () => store.addRunWaiter("old", "w1", "op-a", NOW));
    await inTx(store, () => store.moveRunWaiters("old", "new"));
    expect(await inTx(store, () => store.takeRunWaiters("old"))).toEqual([]);
    expect(await inTx(store, () => store.takeRunWaiters("new"))).toEqual([{ waiterId: "w1", opKey: "op-a" }]);
  },
} satisfies CasesOf<RunWaiterStatements>;

export const metaCases = {
  getMeta: async (store) => {
    expect(await store.reads.getMeta("nothing here")).toBeNull();
    // Every store records its schema version there.
    expect(await store.reads.getMeta("schema_version")).toBe(String(store.schemaVersion));
  },
  setMeta: async (store) => {
    await inTx(store, () => store.setMeta("k", "one"));
    await seenBothWays(store, (s) => s.getMeta("k"), "one");
    await inTx(store, () => store.setMeta("k", "two"));
    expect(await store.reads.getMeta("k")).toBe("two");
  },
  integrityCheck: async (store) => {
    await withRuns(store, "r1");
    expect(await store.reads.integrityCheck()).toBe("ok");
  },
} satisfies CasesOf<MetaStatements>;
