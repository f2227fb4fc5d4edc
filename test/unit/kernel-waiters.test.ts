/**
 * The kernel's result and message waiters (kernel/waiters.ts): a waiter is registered before the
 * read that checks whether the answer is already there, so a notice landing during that read is
 * not lost; aborts, failed reads and a close leave nothing behind.
 */
import { describe, expect, test } from "bun:test";
import { createWaiters } from "../../src/kernel/waiters.ts";

/** A read the test answers by hand, so a notice can land while it is in flight. */
function heldRead<T>() {
  let answer!: (value: T | null) => void;
  let fail!: (error: unknown) => void;
  const started = Promise.withResolvers<void>();
  const read = () => {
    started.resolve();
    return new Promise<T | null>((resolve, reject) => ((answer = resolve), (fail = reject)));
  };
  return { read, started: started.promise, answer: (value: T | null) => answer(value), fail: (error: unknown) => fail(error) };
}

describe("kernel waiters", () => {
  test("a notice that lands while the read is in flight reaches the waiter", async () => {
    const waiters = createWaiters<string, string>(() => false);
    const held = heldRead<string>();
    const waiting = waiters.wait("run-1", held.read);
    await held.started;
    waiters.notify("run-1", "ended");
    held.answer(null); // the read saw the state from before the notice
    expect(await waiting).toBe("ended");
    expect(waiters.has("run-1")).toBe(false);
  });

  test("an answer the read already has is returned and nothing stays registered", async () => {
    const waiters = createWaiters<number, string>(() => false);
    expect(await waiters.wait(7, async () => "done")).toBe("done");
    expect(waiters.keys()).toEqual([]);
  });

  test("a read that throws forgets the waiter and the caller gets its error", async () => {
    const waiters = createWaiters<string, string>(() => false);
    const missing = new Error("no such run");
    await expect(waiters.wait("gone", () => Promise.reject(missing))).rejects.toBe(missing);
    expect(waiters.has("gone")).toBe(false);
  });

  test("an abort rejects with the signal's reason and forgets the waiter; the others still hear", async () => {
    const waiters = createWaiters<string, string>(() => false);
    const controller = new AbortController();
    const aborted = waiters.wait("run-1", async () => null, controller.signal);
    const other = waiters.wait("run-1", async () => null);
    await Bun.sleep(0); // both reads answered: both wait for the notice
    const reason = new Error("timed out");
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    waiters.notify("run-1", "ended");
    expect(await other).toBe("ended");
    expect(waiters.has("run-1")).toBe(false);
  });

  test("rejectAll rejects every waiter, and a closed kernel refuses new waits", async () => {
    let closed = false;
    const waiters = createWaiters<string, string>(() => closed);
    const both = Promise.allSettled([waiters.wait("a", async () => null), waiters.wait("b", async () => null)]);
    await Bun.sleep(0);
    closed = true;
    const error = new Error("closed");
    waiters.rejectAll(error);
    expect(await both).toEqual([
      { status: "rejected", reason: error },
      { status: "rejected", reason: error },
    ]);
    expect(waiters.keys()).toEqual([]);
    await expect(waiters.wait("c", async () => null)).rejects.toMatchObject({ code: "runtime_closed" });
  });
});
