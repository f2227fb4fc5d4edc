/**
 * An ask from a script waits for the disk once: its message commits without an fsync, and the
 * commit of its turn's outcome — which waits for the disk — makes the message durable with the
 * reply. Anything the asker hears before a reply (a refusal, a timeout) waits for a sync of the log.
 * SQLite only: PostgreSQL commits every batch durably (its store has no `syncLog`).
 */
import { describe, expect, test } from "bun:test";
import { createRuntime } from "../../src/embedded/index.ts";
import { service } from "../../src/sdk/index.ts";
import { eventually, tempDatabase } from "../helpers/temp-dir.ts";

const counter = service({
  name: "durableCounter",
  key: (i: { k: string }) => i.k,
  init: () => ({ n: 0 }),
  onSend: { add: (_: void, s: { n: number }) => ({ state: { n: s.n + 1 } }) },
  onAsk: { inc: (_: void, s: { n: number }) => ({ reply: s.n + 1, state: { n: s.n + 1 } }) },
});

describe("services: an ask's commits and the disk", () => {
  test("an ask from a script commits its message without waiting for the disk, and its reply with it", async () => {
    await using rt = await createRuntime({ database: tempDatabase(), definitions: [counter], logLevel: "silent" });
    const ref = await rt.connect(counter, { k: "a" });
    await ref.ask.inc();
    const batches = rt.stats.batches;
    const relaxed = rt.durability.relaxedBatches;
    for (let i = 0; i < 20; i++) expect(await ref.ask.inc()).toBe(i + 2);
    // Two commits per ask, as before; only the message's skips the fsync.
    expect(rt.stats.batches - batches).toBe(40);
    expect(rt.durability.relaxedBatches - relaxed).toBe(20);
    expect(rt.durability.logSyncs).toBe(0);
  });

  test("a send from a script waits for the disk: its acceptance is the caller's answer", async () => {
    await using rt = await createRuntime({ database: tempDatabase(), definitions: [counter], logLevel: "silent" });
    const ref = await rt.connect(counter, { k: "s" });
    const batches = rt.stats.batches;
    for (let i = 0; i < 5; i++) await ref.send.add();
    await eventually(async () => ((await ref.status()) === "idle" ? true : undefined), 10_000, "the sends handled");
    expect(rt.stats.batches - batches).toBeGreaterThanOrEqual(6);
    expect(rt.durability.relaxedBatches).toBe(0);
    expect(await ref.ask.inc()).toBe(6);
    // The instance was idle: the ask's message is alone in its batch, which skips the fsync.
    expect(rt.durability.relaxedBatches).toBe(1);
  });

  test("an ask that times out has its message made durable before the asker hears of the timeout", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const turnStarted = new Promise<void>((resolve) => (started = resolve));
    const slow = service({
      name: "slowCounter",
      key: (i: { k: string }) => i.k,
      init: () => ({ n: 0 }),
      onAsk: {
        // Waits on a plain promise (no ctx op): nothing commits while it waits.
        inc: async (_: void, s: { n: number }) => (started(), await held, { reply: s.n + 1, state: { n: s.n + 1 } }),
      },
    });
    await using rt = await createRuntime({ database: tempDatabase(), definitions: [slow], logLevel: "silent" });
    const ref = await rt.connect(slow, { k: "t" });
    const asked = ref.ask.inc(undefined, { timeout: "50ms" });
    await turnStarted;
    expect(rt.durability.logSyncs).toBe(0);
    const error = await asked.then(
      () => null,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).toBe("ask_timeout");
    // The sync ran before the rejection reached us.
    expect(rt.durability.logSyncs).toBe(1);
    release();
    // The message was left to be handled: its turn completes and the state shows it.
    const again = await rt.connect(slow, { k: "t" });
    expect(await again.ask.inc()).toBe(2);
  });

  test("a refused ask has its refusal made durable before the asker hears of it", async () => {
    await using rt = await createRuntime({ database: tempDatabase(), definitions: [counter], logLevel: "silent" });
    const ref = await rt.connect(counter, { k: "r" });
    await rt.stop(ref.id);
    const error = await ref.ask.inc().then(
      () => null,
      (e: unknown) => e as { cause?: { reason?: string } },
    );
    expect(error?.cause?.reason).toBe("service_stopped");
    expect(rt.durability.relaxedBatches).toBe(1);
    expect(rt.durability.logSyncs).toBe(1);
    const { events } = await rt.inspect(ref.id);
    expect(events.map((e) => e.type)).toContain("message_rejected");
  });
});
