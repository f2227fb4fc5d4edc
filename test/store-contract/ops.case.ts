/** The contract's cases for `ops`: the op journal, and the timers it holds. */
import { expect } from "bun:test";
import type { OpStatements, TimerStatements } from "../../src/store/contract.ts";
import { inTx, NOW, op, seenBothWays, withInstance, withRuns, type CasesOf } from "./harness.ts";

const keysOf = (rows: readonly { opKey: string }[]) => rows.map((r) => r.opKey);

export const opCases = {
  listOps: async (store) => {
    await withRuns(store, "r1", "r2");
    await inTx(store, async () => {
      await store.putOp(op("r1", "b", 2));
      await store.putOp(op("r1", "a", 1));
      await store.putOp(op("r2", "c", 1));
    });
    await seenBothWays(store, async (s) => keysOf(await s.listOps("r1")), ["a", "b"]);
    expect(await store.reads.listOps("nobody")).toEqual([]);
  },
  listOpsWithPrefix: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      for (const [key, seq] of [["t1/a", 1], ["t2/a", 2], ["t1/b", 3], ["t1", 4]] as const) await store.putOp(op("r1", key, seq));
    });
    await seenBothWays(store, async (s) => keysOf(await s.listOpsWithPrefix("r1", "t1/")), ["t1/a", "t1/b"]);
    expect(await store.reads.listOpsWithPrefix("r1", "t3/")).toEqual([]);
  },
  getOp: async (store) => {
    await withRuns(store, "r1");
    expect(await store.reads.getOp("r1", "a")).toBeNull();
    await inTx(store, () => store.putOp(op("r1", "a", 1, { meta: '{"m":1}', wakeAt: NOW + 10 })));
    const row = {
      runId: "r1", opKey: "a", seq: 1, kind: "step", name: "a", status: "waiting", attempt: 1, result: null, error: null,
      wakeAt: NOW + 10, meta: '{"m":1}', resolvedSeq: null, updatedAt: NOW,
    };
    await seenBothWays(store, (s) => s.getOp("r1", "a"), row);
  },
  putOp: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.putOp(op("r1", "a", 1));
      await store.putOp(op("r1", "b", 2, { status: "completed", result: '"B"' }));
    });
    // An upsert: the outcome changes, the place and identity stay; outcomes are numbered in the order written.
    await inTx(store, () => store.putOp(op("r1", "a", 9, { kind: "sleep", name: "other", status: "completed", attempt: 2, result: '"A"', now: NOW + 1 })));
    await seenBothWays(store, async (s) => (await s.listOps("r1")).map((o) => [o.opKey, o.seq, o.kind, o.name, o.status, o.attempt, o.result, o.resolvedSeq, o.updatedAt]), [
      ["a", 1, "step", "a", "completed", 2, '"A"', 2, NOW + 1],
      ["b", 2, "step", "b", "completed", 1, '"B"', 1, NOW],
    ]);
    // A number once given stays; an unseen outcome gets none yet.
    await inTx(store, async () => {
      await store.putOp(op("r1", "b", 2, { status: "failed", error: '{"m":"x"}', now: NOW + 2 }));
      await store.putOp(op("r1", "c", 3, { status: "completed", unseen: true }));
    });
    expect((await store.reads.getOp("r1", "b"))).toMatchObject({ status: "failed", error: '{"m":"x"}', resolvedSeq: 1 });
    expect((await store.reads.getOp("r1", "c"))!.resolvedSeq).toBeNull();
    // An op belongs to a run that exists.
    await expect(inTx(store, () => store.putOp(op("nobody", "a", 1)))).rejects.toThrow();
  },
  numberUnseenOutcomes: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.putOp(op("r1", "seen", 1, { status: "completed" }));
      await store.putOp(op("r1", "late", 2, { status: "completed", unseen: true, now: NOW + 2 }));
      await store.putOp(op("r1", "early", 3, { status: "failed", unseen: true, now: NOW + 1 }));
      await store.putOp(op("r1", "open", 4));
    });
    await inTx(store, () => store.numberUnseenOutcomes("r1"));
    // After the numbers already given, in the order the outcomes were settled; open ops get none.
    await seenBothWays(store, async (s) => (await s.listOps("r1")).map((o) => [o.opKey, o.resolvedSeq]), [
      ["seen", 1], ["late", 3], ["early", 2], ["open", null],
    ]);
    await inTx(store, () => store.numberUnseenOutcomes("r1"));
    expect((await store.reads.getOp("r1", "late"))!.resolvedSeq).toBe(3);
  },
  latestWaitingSignalOp: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.putOp(op("r1", "s1", 1, { kind: "signal", name: "go" }));
      await store.putOp(op("r1", "s2", 2, { kind: "signal", name: "go" }));
      await store.putOp(op("r1", "s3", 3, { kind: "signal", name: "go", status: "completed" }));
      await store.putOp(op("r1", "s4", 4, { kind: "signal", name: "stop" }));
      await store.putOp(op("r1", "x", 5, { kind: "step", name: "go" }));
    });
    await seenBothWays(store, async (s) => (await s.latestWaitingSignalOp("r1", "go"))?.opKey, "s2");
    expect(await store.reads.latestWaitingSignalOp("r1", "other")).toBeNull();
  },
  firstWaitingOp: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.putOp(op("r1", "e0", 1, { kind: "exit_wait", status: "completed" }));
      await store.putOp(op("r1", "e1", 2, { kind: "exit_wait" }));
      await store.putOp(op("r1", "e2", 3, { kind: "exit_wait" }));
      await store.putOp(op("r1", "s", 0, { kind: "sleep" }));
    });
    await seenBothWays(store, async (s) => (await s.firstWaitingOp("r1", "exit_wait"))?.opKey, "e1");
    expect(await store.reads.firstWaitingOp("r1", "signal")).toBeNull();
  },
  closeOpenOps: async (store) => {
    await withRuns(store, "r1", "r2");
    await inTx(store, async () => {
      await store.putOp(op("r1", "w", 1, { wakeAt: NOW + 5 }));
      await store.putOp(op("r1", "rw", 2, { status: "retry_wait", wakeAt: NOW + 5 }));
      await store.putOp(op("r1", "rr", 3, { status: "retry_ready" }));
      await store.putOp(op("r1", "done", 4, { status: "completed" }));
      await store.putOp(op("r2", "w", 1));
    });
    await inTx(store, () => store.closeOpenOps("r1", "failed", NOW + 9));
    await seenBothWays(store, async (s) => (await s.listOps("r1")).map((o) => [o.opKey, o.status, o.wakeAt, o.updatedAt]), [
      ["w", "failed", null, NOW + 9], ["rw", "failed", null, NOW + 9], ["rr", "failed", null, NOW + 9], ["done", "completed", null, NOW],
    ]);
    expect((await store.reads.getOp("r2", "w"))!.status).toBe("waiting");
  },
  closeOpenOpsWithPrefix: async (store) => {
    await withRuns(store, "r1");
    await inTx(store, async () => {
      await store.putOp(op("r1", "t1/a", 1, { wakeAt: NOW + 5 }));
      await store.putOp(op("r1", "t2/a", 2));
    });
    await inTx(store, async () => {
      await store.listOps("r1");
      await store.closeOpenOpsWithPrefix("r1", "t1/", "failed", NOW + 1);
      expect((await store.getOp("r1", "t1/a"))!.status).toBe("failed");
    });
    expect((await store.reads.listOps("r1")).map((o) => [o.opKey, o.status, o.wakeAt])).toEqual([["t1/a", "failed", null], ["t2/a", "waiting", null]]);
  },
  openOpCount: async (store) => {
    await withRuns(store, "r1");
    expect(await store.reads.openOpCount("r1")).toBe(0);
    await inTx(store, async () => {
      await store.putOp(op("r1", "a", 1));
      await store.putOp(op("r1", "b", 2, { status: "retry_wait" }));
      await store.putOp(op("r1", "c", 3, { status: "completed" }));
      await store.putOp(op("r1", "d", 4, { status: "failed" }));
    });
    await seenBothWays(store, (s) => s.openOpCount("r1"), 2);
  },
} satisfies CasesOf<OpStatements>;

/** Sleeps and other op timers of two runs, due at 10, 20, 30 and 40. */
async function withTimers(store: Parameters<typeof withRuns>[0]) {
  await withRuns(store, "r1", "r2");
  await inTx(store, async () => {
    await store.putOp(op("r1", "sleep30", 1, { kind: "sleep", wakeAt: 30 }));
    await store.putOp(op("r1", "retry20", 2, { status: "retry_wait", wakeAt: 20 }));
    await store.putOp(op("r2", "sleep10", 1, { kind: "sleep", wakeAt: 10 }));
    await store.putOp(op("r2", "ask40", 2, { kind: "ask", wakeAt: 40 }));
    await store.putOp(op("r2", "none", 3));
  });
}

export const timerCases = {
  dueTimers: async (store) => {
    await withTimers(store);
    const due = await store.reads.dueTimers(30, 10);
    expect(due).toEqual([
      { runId: "r2", opKey: "sleep10", kind: "sleep", name: "sleep10", status: "waiting", attempt: 1, wakeAt: 10 },
      { runId: "r1", opKey: "retry20", kind: "step", name: "retry20", status: "retry_wait", attempt: 1, wakeAt: 20 },
      { runId: "r1", opKey: "sleep30", kind: "sleep", name: "sleep30", status: "waiting", attempt: 1, wakeAt: 30 },
    ]);
    expect((await store.reads.dueTimers(100, 2)).map((t) => t.opKey)).toEqual(["sleep10", "retry20"]);
    expect(await store.reads.dueTimers(5, 10)).toEqual([]);
  },
  dueSleeps: async (store) => {
    await withTimers(store);
    expect((await store.reads.dueSleeps(0, 100, 10)).map((t) => t.opKey)).toEqual(["sleep10", "sleep30"]);
    // After `after` (not at it) and by `until`.
    expect((await store.reads.dueSleeps(10, 30, 10)).map((t) => t.opKey)).toEqual(["sleep30"]);
    expect((await store.reads.dueSleeps(0, 100, 1)).map((t) => t.opKey)).toEqual(["sleep10"]);
  },
  nextWakes: async (store) => {
    expect(await store.reads.nextWakes()).toEqual({ sleep: null, other: null });
    await withTimers(store);
    await seenBothWays(store, (s) => s.nextWakes(), { sleep: 10, other: 20 });
    // A service message's timer counts among the others.
    await withInstance(store, "s1");
    const id = await inTx(store, () => store.insertMessage({ serviceRunId: "s1", kind: "send", name: "m", payload: null, senderRunId: null, senderOpKey: null, now: NOW }));
    await inTx(store, () => store.updateMessage(id, { status: "deferred", wakeAt: 15 }, NOW));
    expect(await store.reads.nextWakes()).toEqual({ sleep: 10, other: 15 });
  },
  nextSleepAfter: async (store) => {
    expect(await store.reads.nextSleepAfter(0)).toBeNull();
    await withTimers(store);
    expect(await store.reads.nextSleepAfter(0)).toBe(10);
    expect(await store.reads.nextSleepAfter(10)).toBe(30);
    expect(await store.reads.nextSleepAfter(30)).toBeNull();
  },
} satisfies CasesOf<TimerStatements>;
