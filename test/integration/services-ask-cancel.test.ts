/**
 * Cancelling an ask cancels the turn that serves it (issue 22): when the asker stops waiting — it is
 * cancelled, its ask times out, or it ends with the ask still open — the turn handling the ask is
 * cancelled too: its waits close, its steps are aborted, its message ends `cancelled`, its state and
 * subscriptions are thrown away, and the instance serves the next message.
 */
import { describe, expect, test } from "bun:test";
import { createRuntime as createEmbeddedRuntime } from "../../src/embedded/index.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

function makeGate(seen: { started: string[]; aborted: string[] }) {
  return service({
    name: "gate",
    key: (i: { id: string }) => i.id,
    init: async () => ({ served: [] as string[] }),
    onAsk: {
      // Holds its turn until a long sleep ends; the state it returns must never land when cancelled.
      hold: async (p: { tag: string }, state, ctx) => {
        await ctx.subscribe("news", { signal: "news" });
        await ctx.sleep("1h");
        return { state: { served: [...state.served, `hold:${p.tag}`] }, reply: "held" };
      },
      // Holds its turn inside a step that only ends when its signal aborts.
      grind: async (p: { tag: string }, state, ctx) => {
        await ctx.step("grind", (step) => {
          seen.started.push(p.tag);
          return new Promise<void>((resolve) => step.signal.addEventListener("abort", () => (seen.aborted.push(p.tag), resolve())));
        });
        return { state: { served: [...state.served, `grind:${p.tag}`] }, reply: "ground" };
      },
      status: async (_p: void, state) => ({ reply: state.served }),
    },
    onSignal: { news: async (_p: unknown, state) => ({ state: { served: [...state.served, "news"] } }) },
  });
}

function setup() {
  const seen = { started: [] as string[], aborted: [] as string[] };
  const gate = makeGate(seen);
  const asker = workflow({
    name: "asker",
    run: async (input: { how: "hold" | "grind"; timeout?: string }, ctx) => {
      const ref = await ctx.connect(gate, { id: "g" });
      return input.how === "hold" ? ref.ask.hold({ tag: "wf" }, input.timeout ? { timeout: input.timeout } : undefined) : ref.ask.grind({ tag: "wf" });
    },
  });
  const publisher = workflow({ name: "publisher", run: async (_i: void, ctx) => ctx.publish("news", { n: 1 }) });
  return { seen, gate, asker, publisher };
}

describe("cancelling an ask cancels the turn that serves it", () => {
  test("a cancelled asker: the turn's wait closes, its message ends cancelled, and the instance serves the next ask", async () => {
    const { gate, asker, publisher } = setup();
    await using rt = await createRuntime({ definitions: [gate, asker, publisher], logLevel: "silent" });
    const run = await rt.start(asker, { how: "hold" });
    const g = await rt.connect(gate, { id: "g" });
    await eventually(async () => ((await g.status()) === "waiting" ? true : undefined), 5_000, "the gate's turn to wait");
    await rt.cancel(run.id, { reason: "user left" });

    // The next ask is served, and the cancelled turn left neither state nor subscription behind.
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
    const published = await rt.start(publisher);
    expect(await published.result({ timeout: "5s" })).toMatchObject({ matched: 0, enqueued: 0 });

    const inspection = await rt.inspect(g.id);
    expect(inspection.run.status).toBe("idle");
    expect(inspection.turns.find((m) => m.name === "hold")).toMatchObject({ status: "cancelled", error: { reason: "cancelled" } });
    expect(inspection.queued).toEqual([]);
    expect(inspection.subscriptions).toEqual([]);
    const cancelled = inspection.events.find((e) => e.type === "turn_cancelled");
    expect(cancelled).toMatchObject({ name: "hold", reason: "cancelled" });
    expect(inspection.ops.filter((op) => op.opKey.includes("sleep")).map((op) => op.status)).toEqual(["cancelled"]);
  });

  test("an ask that times out while its turn is handled cancels that turn; the asker gets ask_timeout", async () => {
    const clock = createManualClock();
    const { gate, asker } = setup();
    await using rt = await createRuntime({ definitions: [gate, asker], clock, logLevel: "silent" });
    const run = await rt.start(asker, { how: "hold", timeout: "5s" });
    const g = await rt.connect(gate, { id: "g" });
    await eventually(async () => ((await g.status()) === "waiting" ? true : undefined), 5_000, "the gate's turn to wait");
    clock.advance(5_000);
    const failure = await run.result({ timeout: "5s" }).then(
      () => null,
      (error: Error & { cause?: { code?: string } }) => error,
    );
    expect(failure?.cause?.code).toBe("ask_timeout");
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
    const inspection = await rt.inspect(g.id);
    expect(inspection.events.find((e) => e.type === "turn_cancelled")).toMatchObject({ name: "hold", reason: "ask_timeout" });
  });

  test("a step the cancelled turn is running sees its signal abort, and what it returns afterwards is dropped", async () => {
    const { seen, gate, asker } = setup();
    await using rt = await createRuntime({ definitions: [gate, asker], logLevel: "silent" });
    const run = await rt.start(asker, { how: "grind" });
    const g = await rt.connect(gate, { id: "g" });
    await eventually(() => (seen.started.length === 1 ? true : undefined), 5_000, "the turn's step to start");
    await rt.cancel(run.id);
    await eventually(() => (seen.aborted.length === 1 ? true : undefined), 5_000, "the step's signal to abort");
    expect(seen.aborted).toEqual(["wf"]);
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
    const inspection = await rt.inspect(g.id);
    expect(inspection.events.filter((e) => e.type === "turn_completed").map((e) => e.name)).toEqual(["status"]);
  });

  test("an asker that ends with its ask still open cancels the turn serving it, and a chain of asks is cancelled to its end", async () => {
    const { gate } = setup();
    const relay = service({
      name: "relay",
      key: () => "r",
      onAsk: { pass: async (_p: void, _s, ctx) => ({ reply: await (await ctx.connect(gate, { id: "g" })).ask.hold({ tag: "relay" }) }) },
    });
    const racer = workflow({
      name: "racer",
      run: async (_i: void, ctx) => {
        const r = await ctx.connect(relay, {});
        return Promise.race([r.ask.pass(), ctx.sleep("2s").then(() => "gave up")]);
      },
    });
    const clock = createManualClock();
    await using rt = await createRuntime({ definitions: [gate, relay, racer], clock, logLevel: "silent" });
    const run = await rt.start(racer);
    const g = await rt.connect(gate, { id: "g" });
    const r = await rt.connect(relay, {});
    await eventually(async () => ((await g.status()) === "waiting" && (await r.status()) === "waiting" ? true : undefined), 5_000, "both turns to wait");
    clock.advance(2_000);
    expect(await run.result({ timeout: "5s" })).toBe("gave up");
    await eventually(async () => ((await g.status()) === "idle" && (await r.status()) === "idle" ? true : undefined), 5_000, "both instances to rest");
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
    expect((await rt.inspect(r.id)).events.find((e) => e.type === "turn_cancelled")).toMatchObject({ name: "pass" });
    expect((await rt.inspect(g.id)).events.find((e) => e.type === "turn_cancelled")).toMatchObject({ name: "hold" });
  });
});

describe("cancelling several asks at once", () => {
  test("a sender with two open asks to one instance: both are cancelled, and the instance serves the next ask", async () => {
    const { gate } = setup();
    const both = workflow({
      name: "both",
      run: async (_i: void, ctx) => {
        const ref = await ctx.connect(gate, { id: "g" });
        return Promise.all([ref.ask.hold({ tag: "a" }), ref.ask.hold({ tag: "b" })]);
      },
    });
    await using rt = await createRuntime({ definitions: [gate, both], logLevel: "silent" });
    const run = await rt.start(both);
    const g = await rt.connect(gate, { id: "g" });
    await eventually(async () => ((await g.status()) === "waiting" && (await rt.inspect(g.id)).queued.length === 2 ? true : undefined), 5_000, "one ask served, one queued");
    await rt.cancel(run.id);
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
    const inspection = await rt.inspect(g.id);
    expect(inspection.run.status).toBe("idle");
    expect(inspection.turns.filter((m) => m.name === "hold").map((m) => m.status)).toEqual(["cancelled", "cancelled"]);
    expect(inspection.events.filter((e) => e.type === "turn_cancelled")).toHaveLength(1);
    expect(inspection.events.filter((e) => e.type === "message_cancelled")).toHaveLength(1);
  });

  test("a chain of asks that comes back to the first instance is cancelled to its end, and both instances serve again", async () => {
    const { gate } = setup();
    const self: { ping?: unknown } = {};
    const ping = service({
      name: "ping",
      key: (i: { id: string }) => i.id,
      onAsk: {
        // a → b → a: the second ask to `a` queues behind the turn that made the first.
        relay: async (p: { to: string; hops: number }, _s, ctx) => {
          if (p.hops === 0) return { reply: await (await ctx.connect(gate, { id: "g" })).ask.hold({ tag: "end" }) };
          const next = (await ctx.connect(self.ping as never, { id: p.to } as never)) as unknown as { ask: { relay(q: { to: string; hops: number }): Promise<unknown> } };
          return { reply: await next.ask.relay({ to: p.to === "a" ? "b" : "a", hops: p.hops - 1 }) };
        },
        ping: async () => ({ reply: "pong" }),
      },
    });
    self.ping = ping;
    const starter = workflow({
      name: "starter",
      run: async (_i: void, ctx) => {
        const a = (await ctx.connect(ping, { id: "a" })) as unknown as { ask: { relay(q: { to: string; hops: number }): Promise<unknown> } };
        return a.ask.relay({ to: "b", hops: 2 });
      },
    });
    await using rt = await createRuntime({ definitions: [gate, ping, starter], logLevel: "silent" });
    const run = await rt.start(starter);
    const a = (await rt.connect(ping, { id: "a" })) as unknown as { id: string; ask: { ping(p?: void, o?: { timeout: string }): Promise<unknown> } };
    const b = (await rt.connect(ping, { id: "b" })) as unknown as { id: string; ask: { ping(p?: void, o?: { timeout: string }): Promise<unknown> } };
    // a's turn asks b; b's asks a (queued behind a's turn): the chain waits there for good.
    await eventually(async () => ((await rt.inspect(a.id)).queued.length === 2 ? true : undefined), 5_000, "the chain to come back to a");
    await rt.cancel(run.id);
    expect(await a.ask.ping(undefined, { timeout: "10s" })).toBe("pong");
    expect(await b.ask.ping(undefined, { timeout: "10s" })).toBe("pong");
    expect((await rt.inspect(a.id)).turns.filter((m) => m.name === "relay").map((m) => m.status)).toEqual(["cancelled", "cancelled"]);
  });
});

describe.skipIf(!hasPostgres)("cancelling an ask across daemons on PostgreSQL", () => {
  test("the daemon running the turn stops its code when another daemon cancels the asker", async () => {
    const { seen, gate, asker } = setup();
    const database = await freshPostgresDatabase();
    // Each has the code of one side only: the turn runs on the second, the cancel goes through the first.
    await using first = await createEmbeddedRuntime({ database, definitions: [asker], logLevel: "silent" });
    await using second = await createEmbeddedRuntime({ database, definitions: [gate], logLevel: "silent" });
    const run = await first.start(asker, { how: "grind" });
    const g = await second.connect(gate, { id: "g" });
    await eventually(() => (seen.started.length === 1 ? true : undefined), 10_000, "the turn's step to start");
    await first.cancel(run.id);
    await eventually(() => (seen.aborted.length === 1 ? true : undefined), 10_000, "the step on the other daemon to see its signal abort");
    expect(await g.ask.status(undefined, { timeout: "10s" })).toEqual([]);
  });
});
