/** The contract's cases for `runs`: workflow runs and service instances. */
import { expect } from "bun:test";
import type { InstanceStatements, RunStatements } from "../../src/store/contract.ts";
import { inTx, newRun, NOW, rowAfterWrite, seenBothWays, withInstance, withRuns, type CasesOf } from "./harness.ts";

/** A new run's row: what `insertRun` sets, and the schema's defaults for the rest. */
const freshRow = (id: string) => ({
  id, kind: "workflow", name: "w", status: "pending", input: '{"a":1}', output: null, error: null, parentId: null, project: "proj",
  snapshotId: "snap", serviceKey: null, keyInput: null, state: null, leaseFence: 0, crashes: 0, trapsExits: 0,
  createdAt: NOW, updatedAt: NOW, finishedAt: null,
});

export const runCases = {
  insertRun: async (store) => {
    await inTx(store, () => store.insertRun(newRun("r1", { input: '{"a":1}', project: "proj", snapshotId: "snap" })));
    expect(await store.reads.getRun("r1")).toMatchObject(freshRow("r1"));
    await expect(inTx(store, () => store.insertRun(newRun("r1")))).rejects.toThrow();
  },
  getRun: async (store) => {
    expect(await store.reads.getRun("nobody")).toBeNull();
    await store.transaction(async () => {
      await store.insertRun(newRun("r1", { input: '{"a":1}', project: "proj", snapshotId: "snap" }));
      // Read back inside the transaction that wrote it, then again (a store may answer from what it read).
      expect(await store.getRun("r1")).toMatchObject(freshRow("r1"));
      const first = (await store.getRun("r1"))!;
      first.status = "failed"; // a row handed out is a copy
      expect((await store.getRun("r1"))!.status).toBe("pending");
      expect(await store.getRun("nobody")).toBeNull();
    });
    expect(await store.reads.getRun("r1")).toMatchObject(freshRow("r1"));
  },
  setRunStatus: async (store) => {
    await withRuns(store, "r1");
    const row = await rowAfterWrite(store, "r1", () => store.setRunStatus("r1", "running", NOW + 5));
    expect([row.status, row.updatedAt, row.finishedAt]).toEqual(["running", NOW + 5, null]);
    expect((await rowAfterWrite(store, "r1", () => store.setRunStatus("r1", "waiting", NOW + 6))).status).toBe("waiting");
  },
  finishRun: async (store) => {
    await withRuns(store, "r1", "r2");
    await inTx(store, async () => {
      await store.finishRun("r1", "completed", '"done"', null, NOW + 7);
      await store.finishRun("r2", "failed", null, '{"message":"no"}', NOW + 8);
    });
    expect(await store.reads.getRun("r1")).toMatchObject({ status: "completed", output: '"done"', error: null, updatedAt: NOW + 7, finishedAt: NOW + 7 });
    expect(await store.reads.getRun("r2")).toMatchObject({ status: "failed", output: null, error: '{"message":"no"}', finishedAt: NOW + 8 });
    await withRuns(store, "r3");
    await inTx(store, () => store.setRunStatus("r3", "running", NOW + 1));
    const ended = await rowAfterWrite(store, "r3", () => store.finishRun("r3", "cancelled", null, null, NOW + 9));
    expect([ended.status, ended.finishedAt]).toEqual(["cancelled", NOW + 9]);
  },
  bumpFence: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, () => store.setWakePending("r1", true));
    // Once on a run not read in the transaction, once on one read there: the same answers.
    expect(await inTx(store, () => store.bumpFence("r1", NOW + 1))).toBe(1);
    expect(
      await inTx(store, async () => {
        await store.getRun("r1");
        const fence = await store.bumpFence("r1", NOW + 2);
        expect((await store.getRun("r1"))!.leaseFence).toBe(fence);
        return fence;
      }),
    ).toBe(2);
    expect(await store.reads.getRun("r1")).toMatchObject({ leaseFence: 2, updatedAt: NOW + 2 });
    expect(await store.reads.getWakePending("r1")).toBe(false);
    await expect(store.bumpFence("nobody", NOW)).rejects.toMatchObject({ code: "not_found" });
  },
  setWakePending: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, () => store.setWakePending("r1", true));
    await seenBothWays(store, (s) => s.getWakePending("r1"), true);
    await inTx(store, () => store.setWakePending("r1", false));
    await seenBothWays(store, (s) => s.getWakePending("r1"), false);
  },
  getWakePending: async (store) => {
    await withRuns(store, "r1");
    expect(await store.reads.getWakePending("r1")).toBe(false);
    expect(await store.reads.getWakePending("nobody")).toBe(false);
    await inTx(store, async () => {
      await store.setWakePending("r1", true);
      expect(await store.getWakePending("r1")).toBe(true);
      await store.bumpFence("r1", NOW);
      expect(await store.getWakePending("r1")).toBe(false);
    });
  },
  setCrashes: async (store) => {
    await withRuns(store, "r1");
    expect((await rowAfterWrite(store, "r1", () => store.setCrashes("r1", 2))).crashes).toBe(2);
  },
  listRuns: async (store) => {
    await inTx(store, async () => {
      await store.insertRun(newRun("a", { now: 1, name: "x", project: "p1" }));
      await store.insertRun(newRun("b", { now: 2, name: "y", project: "p1", status: "running" }));
      await store.insertRun(newRun("c", { now: 2, name: "x", project: "p2" }));
      await store.insertRun(newRun("d", { now: 3, name: "x", project: "p1", kind: "service" }));
    });
    const ids = async (filter?: Parameters<typeof store.listRuns>[0]) => (await store.reads.listRuns(filter)).map((r) => r.id);
    // Newest first; among equal times, the greater id first.
    expect(await ids()).toEqual(["d", "c", "b", "a"]);
    expect(await ids({ status: "pending" })).toEqual(["d", "c", "a"]);
    expect(await ids({ name: "x" })).toEqual(["d", "c", "a"]);
    expect(await ids({ project: "p1" })).toEqual(["d", "b", "a"]);
    expect(await ids({ kind: "workflow", name: "x" })).toEqual(["c", "a"]);
    expect(await ids({ limit: 2 })).toEqual(["d", "c"]);
    expect(await ids({ after: { createdAt: 2, id: "c" } })).toEqual(["b", "a"]);
    expect(await ids({ project: "none" })).toEqual([]);
  },
  listRunIdsWithStatus: async (store) => {
    await inTx(store, async () => {
      await store.insertRun(newRun("w2", { now: 2, status: "waiting" }));
      await store.insertRun(newRun("p1", { now: 1 }));
      await store.insertRun(newRun("w1", { now: 1, status: "waiting" }));
      await store.insertRun(newRun("c1", { now: 1, status: "completed" }));
    });
    expect(await store.reads.listRunIdsWithStatus(["waiting", "pending"])).toEqual(["w1", "w2", "p1"]);
    expect(await store.reads.listRunIdsWithStatus([])).toEqual([]);
  },
  listChildren: async (store) => {
    await inTx(store, async () => {
      await store.insertRun(newRun("parent"));
      await store.insertRun(newRun("late", { parentId: "parent", now: NOW + 2 }));
      await store.insertRun(newRun("early", { parentId: "parent", now: NOW + 1 }));
      await store.insertRun(newRun("other"));
    });
    expect((await store.reads.listChildren("parent")).map((r) => [r.id, r.parentId])).toEqual([["early", "parent"], ["late", "parent"]]);
    expect(await store.reads.listChildren("other")).toEqual([]);
  },
  setTrapsExits: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.getRun("r1");
      await store.setTrapsExits("r1", true);
      expect((await store.getRun("r1"))!.trapsExits).toBe(1);
    });
    expect((await store.reads.getRun("r1"))!.trapsExits).toBe(1);
    await inTx(store, () => store.setTrapsExits("r1", false));
    expect((await store.reads.getRun("r1"))!.trapsExits).toBe(0);
  },
} satisfies CasesOf<RunStatements>;

export const instanceCases = {
  insertInstance: async (store) => {
    await inTx(store, () =>
      store.insertInstance({ id: "s1", project: "p", snapshotId: "snap", name: "svc", serviceKey: "k1", keyInput: '{"k":1}', status: "idle", now: NOW }),
    );
    await seenBothWays(store, (s) => s.getRun("s1"), expect.objectContaining({
      id: "s1", kind: "service", project: "p", snapshotId: "snap", name: "svc", serviceKey: "k1", keyInput: '{"k":1}', status: "idle",
      input: null, state: null, leaseFence: 0, createdAt: NOW, updatedAt: NOW, finishedAt: null,
    }));
  },
  setState: async (store) => {
    await withInstance(store, "s1");
    const row = await rowAfterWrite(store, "s1", () => store.setState("s1", '{"n":1}', NOW + 3));
    expect([row.state, row.updatedAt]).toEqual(['{"n":1}', NOW + 3]);
    await inTx(store, () => store.setState("s1", null, NOW + 4));
    expect((await store.reads.getRun("s1"))!.state).toBeNull();
  },
} satisfies CasesOf<InstanceStatements>;
