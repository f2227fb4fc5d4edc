/** The contract's cases for `messages`: service inboxes, and the asks runs made. */
import { expect } from "bun:test";
import type { MessageStatements } from "../../src/store/contract.ts";
import type { NewMessage, Store } from "../../src/store/index.ts";
import { inTx, NOW, seenBothWays, withInstance, withRuns, type CasesOf } from "./harness.ts";

const message = (over: Partial<NewMessage> = {}): NewMessage => ({
  serviceRunId: "s1", kind: "send", name: "m", payload: null, senderRunId: null, senderOpKey: null, now: NOW, ...over,
});

/** Messages to `s1`, in this order; their ids. */
async function withMessages(store: Store, ...messages: Partial<NewMessage>[]): Promise<number[]> {
  await withInstance(store, "s1");
  return inTx(store, async () => {
    const ids: number[] = [];
    for (const m of messages) ids.push(await store.insertMessage(message(m)));
    return ids;
  });
}

const namesOf = (rows: readonly { name: string }[]) => rows.map((r) => r.name);

export const messageCases = {
  insertMessage: async (store) => {
    await withRuns(store, "sender");
    const [first, second] = await withMessages(store, { kind: "ask", name: "a", payload: '{"q":1}', senderRunId: "sender", senderOpKey: "op-1" }, { name: "b" });
    expect(second!).toBeGreaterThan(first!);
    await seenBothWays(store, (s) => s.getMessage(first!), {
      id: first!, serviceRunId: "s1", kind: "ask", name: "a", payload: '{"q":1}', status: "queued", attempt: 1, senderRunId: "sender",
      senderOpKey: "op-1", wakeAt: null, reply: null, error: null, createdAt: NOW, updatedAt: NOW,
    });
  },
  getMessage: async (store) => {
    expect(await store.reads.getMessage(12345)).toBeNull();
    const [id] = await withMessages(store, { name: "a" });
    expect((await store.reads.getMessage(id!))?.name).toBe("a");
  },
  activeMessage: async (store) => {
    const [a, b] = await withMessages(store, { name: "a" }, { name: "b" });
    expect(await store.reads.activeMessage("s1")).toBeNull();
    await inTx(store, () => store.updateMessage(b!, { status: "active" }, NOW));
    await seenBothWays(store, async (s) => (await s.activeMessage("s1"))?.id, b);
    expect(a).toBeDefined();
  },
  nextReadyMessage: async (store) => {
    const [a] = await withMessages(store, { name: "a" }, { name: "b" }, { name: "c" });
    await seenBothWays(store, async (s) => (await s.nextReadyMessage("s1"))?.name, "a");
    await inTx(store, () => store.updateMessage(a!, { status: "done" }, NOW));
    expect((await store.reads.nextReadyMessage("s1"))?.name).toBe("b");
    expect(await store.reads.nextReadyMessage("nobody")).toBeNull();
  },
  updateMessage: async (store) => {
    const [id] = await withMessages(store, { name: "a" });
    await inTx(store, () => store.updateMessage(id!, { status: "active", attempt: 3, wakeAt: NOW + 50, reply: '"r"', error: '{"e":1}' }, NOW + 1));
    expect(await store.reads.getMessage(id!)).toMatchObject({ status: "active", attempt: 3, wakeAt: NOW + 50, reply: '"r"', error: '{"e":1}', updatedAt: NOW + 1 });
    // Left out: the attempt stays, the others are cleared.
    await inTx(store, () => store.updateMessage(id!, { status: "done" }, NOW + 2));
    expect(await store.reads.getMessage(id!)).toMatchObject({ status: "done", attempt: 3, wakeAt: null, reply: null, error: null, updatedAt: NOW + 2 });
  },
  inboxCounts: async (store) => {
    expect(await store.reads.inboxCounts("nobody")).toEqual({ total: 0, ready: 0, deferred: 0, asks: 0, sends: 0, signals: 0, oldestAt: null, nextWakeAt: null });
    const [, deferred, active, done] = await withMessages(
      store, { kind: "ask", now: 5 }, { kind: "send", now: 3 }, { kind: "signal", now: 1 }, { kind: "send", now: 1 }, { kind: "signal", now: 7 },
    );
    await inTx(store, async () => {
      await store.updateMessage(deferred!, { status: "deferred", wakeAt: 99 }, NOW);
      await store.updateMessage(active!, { status: "active" }, NOW);
      await store.updateMessage(done!, { status: "done" }, NOW);
    });
    // Queued and deferred only.
    await seenBothWays(store, (s) => s.inboxCounts("s1"), { total: 3, ready: 2, deferred: 1, asks: 1, sends: 1, signals: 1, oldestAt: 3, nextWakeAt: 99 });
  },
  listMessages: async (store) => {
    await withMessages(store, { name: "a" }, { name: "b" }, { name: "c" });
    // The newest `limit`, oldest of them first.
    await seenBothWays(store, async (s) => namesOf(await s.listMessages("s1", 2)), ["b", "c"]);
    expect(namesOf(await store.reads.listMessages("s1", 10))).toEqual(["a", "b", "c"]);
  },
  openMessages: async (store) => {
    const [, b, c, d] = await withMessages(store, { name: "a" }, { name: "b" }, { name: "c" }, { name: "d" }, { name: "e" });
    await inTx(store, async () => {
      await store.updateMessage(b!, { status: "deferred", wakeAt: 10 }, NOW);
      await store.updateMessage(c!, { status: "done" }, NOW);
      await store.updateMessage(d!, { status: "active" }, NOW);
    });
    await seenBothWays(store, async (s) => namesOf(await s.openMessages("s1")), ["a", "b", "d", "e"]);
  },
  openOutbound: async (store) => {
    await withRuns(store, "r1", "r2");
    const [, , done] = await withMessages(
      store,
      { kind: "ask", name: "a", senderRunId: "r1", senderOpKey: "t1/x" },
      { kind: "send", name: "send", senderRunId: "r1", senderOpKey: "t1/y" },
      { kind: "ask", name: "done", senderRunId: "r1", senderOpKey: "t1/z" },
      { kind: "ask", name: "b", senderRunId: "r1", senderOpKey: "t2/x" },
      { kind: "ask", name: "theirs", senderRunId: "r2", senderOpKey: "t1/x" },
    );
    await inTx(store, () => store.updateMessage(done!, { status: "done" }, NOW));
    // Open asks only (sends stand once enqueued).
    await seenBothWays(store, async (s) => namesOf(await s.openOutbound("r1")), ["a", "b"]);
  },
  openOutboundWithPrefix: async (store) => {
    await withRuns(store, "r1");
    await withMessages(
      store,
      { kind: "ask", name: "a", senderRunId: "r1", senderOpKey: "t1/x" },
      { kind: "ask", name: "b", senderRunId: "r1", senderOpKey: "t2/x" },
      { kind: "ask", name: "c", senderRunId: "r1", senderOpKey: "t1/y" },
    );
    await seenBothWays(store, async (s) => namesOf(await s.openOutboundWithPrefix("r1", "t1/", "t10")), ["a", "c"]);
  },
  dueMessages: async (store) => {
    const [a, b, c] = await withMessages(store, { name: "a" }, { name: "b" }, { name: "c" }, { name: "never" });
    await inTx(store, async () => {
      await store.updateMessage(a!, { status: "deferred", wakeAt: 30 }, NOW);
      await store.updateMessage(b!, { status: "deferred", wakeAt: 10 }, NOW);
      await store.updateMessage(c!, { status: "active", wakeAt: 20 }, NOW);
    });
    await seenBothWays(store, async (s) => namesOf(await s.dueMessages(25, 10)), ["b", "c"]);
    expect(namesOf(await store.reads.dueMessages(100, 1))).toEqual(["b"]);
  },
} satisfies CasesOf<MessageStatements>;
