/** The contract's cases for `projects`, relationships and exit events, supervision and subscriptions. */
import { expect } from "bun:test";
import type { ProjectStatements, RelationStatements, SubscriptionStatements, SupervisionStatements } from "../../src/store/contract.ts";
import type { SubscriptionRow } from "../../src/store/index.ts";
import { inTx, newRun, NOW, seenBothWays, withInstance, withRuns, type CasesOf } from "./harness.ts";

const project = (name: string, snapshotId = "snap1") => ({ name, path: `/src/${name}`, snapshotId, snapshotDir: `/home/${snapshotId}`, manifest: '{"m":1}' });

export const projectCases = {
  putProject: async (store) => {
    await inTx(store, () => store.putProject(project("p"), NOW));
    await inTx(store, () => store.putProject(project("p", "snap2"), NOW + 1));
    // Replaced, but when it was first added stays.
    await seenBothWays(store, (s) => s.getProject("p"), { ...project("p", "snap2"), createdAt: NOW, updatedAt: NOW + 1 });
  },
  getProject: async (store) => {
    expect(await store.reads.getProject("p")).toBeNull();
    await inTx(store, () => store.putProject(project("p"), NOW));
    expect(await store.reads.getProject("p")).toEqual({ ...project("p"), createdAt: NOW, updatedAt: NOW });
  },
  listProjects: async (store) => {
    expect(await store.reads.listProjects()).toEqual([]);
    await inTx(store, async () => {
      await store.putProject(project("b"), NOW);
      await store.putProject(project("a"), NOW);
    });
    await seenBothWays(store, async (s) => (await s.listProjects()).map((p) => p.name), ["a", "b"]);
  },
  deleteProject: async (store) => {
    await inTx(store, () => store.putProject(project("p"), NOW));
    expect(await inTx(store, () => store.deleteProject("p"))).toBe(true);
    expect(await inTx(store, () => store.deleteProject("p"))).toBe(false);
    expect(await store.reads.getProject("p")).toBeNull();
  },
  liveRunsBySnapshot: async (store) => {
    await inTx(store, async () => {
      for (const [id, status, snapshotId, proj] of [
        ["a", "pending", "s1", "p"], ["b", "running", "s1", "p"], ["c", "waiting", "s2", "p"], ["d", "completed", "s2", "p"],
        ["e", "failed", "s3", "p"], ["f", "pending", "s1", "other"], ["g", "pending", null, "p"],
      ] as const) {
        await store.insertRun(newRun(id, { status, snapshotId, project: proj }));
      }
    });
    await withInstance(store, "svc", "p"); // idle, on "snap"
    const live = await store.reads.liveRunsBySnapshot("p");
    expect(live).toBeInstanceOf(Map);
    expect(Object.fromEntries(live)).toEqual({ s1: 2, s2: 1, snap: 1 });
    expect((await store.reads.liveRunsBySnapshot("none")).size).toBe(0);
  },
} satisfies CasesOf<ProjectStatements>;

const exit = (ownerId: string, targetId: string, at: number) => ({
  ownerId, targetId, targetKind: "workflow", relationship: "link" as const, status: "failed" as const, output: null, error: '{"m":"x"}', at,
});

export const relationCases = {
  addRelationship: async (store) => {
    await withRuns(store, "owner", "target");
    expect(await inTx(store, () => store.addRelationship("owner", "target", "link", "abnormal", NOW))).toBe(true);
    // The first one stands.
    expect(await inTx(store, () => store.addRelationship("owner", "target", "link", "all", NOW + 1))).toBe(false);
    expect(await inTx(store, () => store.addRelationship("owner", "target", "monitor", "all", NOW + 1))).toBe(true);
    await seenBothWays(store, (s) => s.relationshipsOf("owner"), [
      { targetId: "target", ownerId: "owner", kind: "link", propagate: "abnormal", createdAt: NOW },
      { targetId: "target", ownerId: "owner", kind: "monitor", propagate: "all", createdAt: NOW + 1 },
    ]);
  },
  relationshipsTo: async (store) => {
    await withRuns(store, "o1", "o2", "target", "other");
    await inTx(store, async () => {
      await store.addRelationship("o2", "target", "monitor", "all", NOW + 1);
      await store.addRelationship("o1", "target", "link", "all", NOW + 1);
      await store.addRelationship("o2", "other", "link", "all", NOW);
    });
    await seenBothWays(store, async (s) => (await s.relationshipsTo("target")).map((r) => [r.ownerId, r.kind]), [["o1", "link"], ["o2", "monitor"]]);
    expect(await store.reads.relationshipsTo("nobody")).toEqual([]);
  },
  relationshipsOf: async (store) => {
    await withRuns(store, "owner", "t1", "t2");
    await inTx(store, async () => {
      await store.addRelationship("owner", "t2", "monitor", "all", NOW);
      await store.addRelationship("owner", "t1", "monitor", "all", NOW);
      await store.addRelationship("t1", "owner", "link", "all", NOW);
    });
    expect((await store.reads.relationshipsOf("owner")).map((r) => r.targetId)).toEqual(["t1", "t2"]);
  },
  insertExitEvent: async (store) => {
    await withRuns(store, "owner", "target");
    const [a, b] = await inTx(store, async () => [await store.insertExitEvent(exit("owner", "target", NOW)), await store.insertExitEvent(exit("owner", "target", NOW + 1))]);
    expect(b!).toBeGreaterThan(a!);
    await seenBothWays(store, (s) => s.listExitEvents("owner"), [
      { id: a!, ...exit("owner", "target", NOW), consumedBy: null },
      { id: b!, ...exit("owner", "target", NOW + 1), consumedBy: null },
    ]);
  },
  takeExitEvent: async (store) => {
    await withRuns(store, "owner", "target");
    await inTx(store, async () => {
      await store.insertExitEvent(exit("owner", "target", 1));
      await store.insertExitEvent(exit("owner", "target", 2));
    });
    expect(await inTx(store, () => store.takeExitEvent("owner", "t1/a"))).toMatchObject({ at: 1, consumedBy: "t1/a" });
    expect(await inTx(store, () => store.takeExitEvent("owner", "t1/b"))).toMatchObject({ at: 2, consumedBy: "t1/b" });
    expect(await inTx(store, () => store.takeExitEvent("owner", "t1/c"))).toBeNull();
    expect((await store.reads.listExitEvents("owner")).map((e) => e.consumedBy)).toEqual(["t1/a", "t1/b"]);
  },
  listExitEvents: async (store) => {
    await withRuns(store, "o1", "o2", "target");
    expect(await store.reads.listExitEvents("o1")).toEqual([]);
    await inTx(store, async () => {
      await store.insertExitEvent(exit("o1", "target", 1));
      await store.insertExitEvent(exit("o2", "target", 2));
      await store.insertExitEvent(exit("o1", "target", 3));
    });
    expect((await store.reads.listExitEvents("o1")).map((e) => e.at)).toEqual([1, 3]);
  },
  releaseExitEvents: async (store) => {
    await withRuns(store, "owner", "target");
    await inTx(store, async () => {
      for (const at of [1, 2, 3]) await store.insertExitEvent(exit("owner", "target", at));
      await store.takeExitEvent("owner", "t1/a");
      await store.takeExitEvent("owner", "t1/b");
      await store.takeExitEvent("owner", "t2/a");
    });
    expect(await inTx(store, () => store.releaseExitEvents("owner", "t1/"))).toBe(2);
    expect((await store.reads.listExitEvents("owner")).map((e) => e.consumedBy)).toEqual([null, null, "t2/a"]);
    expect(await inTx(store, () => store.releaseExitEvents("owner", "t1/"))).toBe(0);
  },
} satisfies CasesOf<RelationStatements>;

const group = (ownerId: string, groupKey: string, createdAt = NOW) => ({
  ownerId, groupKey, strategy: "one_for_one" as const, maxRestarts: 3, windowMs: 5_000, onExhausted: "fail_self" as const, createdAt,
});
const member = (memberKey: string, runId: string) => ({ ownerId: "owner", groupKey: "g", memberKey, workflow: "child", input: '{"i":1}', runId, createdAt: NOW });

export const supervisionCases = {
  insertSupervisor: async (store) => {
    await withRuns(store, "owner");
    await inTx(store, () => store.insertSupervisor(group("owner", "g")));
    // A group already under that key stands.
    await inTx(store, () => store.insertSupervisor({ ...group("owner", "g"), maxRestarts: 9 }));
    await seenBothWays(store, (s) => s.getSupervisor("owner", "g"), { ...group("owner", "g"), restarts: "[]", exhausted: 0 });
  },
  getSupervisor: async (store) => {
    await withRuns(store, "owner");
    expect(await store.reads.getSupervisor("owner", "g")).toBeNull();
    await inTx(store, () => store.insertSupervisor(group("owner", "g")));
    expect((await store.reads.getSupervisor("owner", "g"))?.strategy).toBe("one_for_one");
  },
  listSupervisors: async (store) => {
    await withRuns(store, "owner");
    await inTx(store, async () => {
      await store.insertSupervisor(group("owner", "b", NOW));
      await store.insertSupervisor(group("owner", "a", NOW + 1));
      await store.insertSupervisor(group("owner", "c", NOW));
    });
    expect((await store.reads.listSupervisors("owner")).map((g) => g.groupKey)).toEqual(["b", "c", "a"]);
  },
  updateSupervisor: async (store) => {
    await withRuns(store, "owner");
    await inTx(store, () => store.insertSupervisor(group("owner", "g")));
    await inTx(store, () => store.updateSupervisor("owner", "g", "[1,2]", true));
    await seenBothWays(store, async (s) => {
      const row = await s.getSupervisor("owner", "g");
      return [row?.restarts, row?.exhausted];
    }, ["[1,2]", 1]);
  },
  insertMember: async (store) => {
    await withRuns(store, "owner", "c1", "c2");
    await inTx(store, () => store.insertSupervisor(group("owner", "g")));
    const [first, second] = await inTx(store, async () => [await store.insertMember(member("m1", "c1")), await store.insertMember(member("m2", "c2"))]);
    // Positions in start order, no restarts yet: the row as stored.
    expect(first).toEqual({ ...member("m1", "c1"), position: 0, restarts: 0 });
    expect(second).toEqual({ ...member("m2", "c2"), position: 1, restarts: 0 });
    expect(await store.reads.getMember("owner", "g", "m2")).toEqual(second!);
  },
  getMember: async (store) => {
    await withRuns(store, "owner", "c1");
    await inTx(store, () => store.insertSupervisor(group("owner", "g")));
    expect(await store.reads.getMember("owner", "g", "m1")).toBeNull();
    await inTx(store, () => store.insertMember(member("m1", "c1")));
    await seenBothWays(store, (s) => s.getMember("owner", "g", "m1"), { ...member("m1", "c1"), position: 0, restarts: 0 });
  },
  memberByRun: async (store) => {
    await withRuns(store, "owner", "c1", "c2");
    await inTx(store, async () => {
      await store.insertSupervisor(group("owner", "g"));
      await store.insertMember(member("m1", "c1"));
    });
    expect((await store.reads.memberByRun("c1"))?.memberKey).toBe("m1");
    expect(await store.reads.memberByRun("c2")).toBeNull();
  },
  listMembers: async (store) => {
    await withRuns(store, "owner", "c1", "c2");
    await inTx(store, async () => {
      await store.insertSupervisor(group("owner", "g"));
      await store.insertMember(member("z", "c1"));
      await store.insertMember(member("a", "c2"));
    });
    await seenBothWays(store, async (s) => (await s.listMembers("owner", "g")).map((m) => [m.memberKey, m.position]), [["z", 0], ["a", 1]]);
  },
  setMemberRun: async (store) => {
    await withRuns(store, "owner", "c1", "c2");
    await inTx(store, async () => {
      await store.insertSupervisor(group("owner", "g"));
      await store.insertMember(member("m1", "c1"));
    });
    await inTx(store, () => store.setMemberRun("owner", "g", "m1", "c2", 1));
    expect(await store.reads.getMember("owner", "g", "m1")).toMatchObject({ runId: "c2", restarts: 1 });
    expect((await store.reads.memberByRun("c2"))?.memberKey).toBe("m1");
    expect(await store.reads.memberByRun("c1")).toBeNull();
  },
} satisfies CasesOf<SupervisionStatements>;

const subscription = (serviceRunId: string, topic: string, handler: string, createdAt = NOW, maxQueued: number | null = 10): SubscriptionRow => ({
  project: "p", topic, serviceRunId, handler, maxQueued, createdAt,
});

export const subscriptionCases = {
  subscribe: async (store) => {
    await withInstance(store, "s1");
    expect(await inTx(store, () => store.subscribe(subscription("s1", "news", "onNews")))).toBe(true);
    // Already there: refreshed (its mailbox limit), not added again.
    expect(await inTx(store, () => store.subscribe(subscription("s1", "news", "onNews", NOW + 1, 20)))).toBe(false);
    await seenBothWays(store, (s) => s.subscriptionsOf("s1"), [subscription("s1", "news", "onNews", NOW, 20)]);
  },
  unsubscribe: async (store) => {
    await withInstance(store, "s1");
    await inTx(store, async () => {
      await store.subscribe(subscription("s1", "news", "a"));
      await store.subscribe(subscription("s1", "news", "b"));
      await store.subscribe(subscription("s1", "other", "a"));
    });
    expect(await inTx(store, () => store.unsubscribe("s1", "p", "news", "a"))).toBe(1);
    expect(await inTx(store, () => store.unsubscribe("s1", "p", "news", "a"))).toBe(0);
    await inTx(store, () => store.subscribe(subscription("s1", "news", "c")));
    expect(await inTx(store, () => store.unsubscribe("s1", "p", "news", null))).toBe(2);
    expect((await store.reads.subscriptionsOf("s1")).map((s) => [s.topic, s.handler])).toEqual([["other", "a"]]);
  },
  subscribersOf: async (store) => {
    await withInstance(store, "s1");
    await withInstance(store, "s2");
    await inTx(store, async () => {
      await store.subscribe(subscription("s2", "news", "h", NOW));
      await store.subscribe(subscription("s1", "news", "h", NOW + 1));
      await store.subscribe(subscription("s1", "other", "h", NOW));
      await store.subscribe({ ...subscription("s1", "news", "h"), project: "elsewhere" });
    });
    await seenBothWays(store, async (s) => (await s.subscribersOf("p", "news")).map((x) => x.serviceRunId), ["s2", "s1"]);
    expect(await store.reads.subscribersOf("p", "none")).toEqual([]);
  },
  subscriptionsOf: async (store) => {
    await withInstance(store, "s1");
    expect(await store.reads.subscriptionsOf("s1")).toEqual([]);
    await inTx(store, async () => {
      await store.subscribe(subscription("s1", "b", "h"));
      await store.subscribe(subscription("s1", "a", "h2"));
      await store.subscribe(subscription("s1", "a", "h1"));
    });
    expect((await store.reads.subscriptionsOf("s1")).map((s) => [s.topic, s.handler])).toEqual([["a", "h1"], ["a", "h2"], ["b", "h"]]);
  },
} satisfies CasesOf<SubscriptionStatements>;
