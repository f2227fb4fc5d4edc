import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

/** A log service: every handled message appends `<name>:<value>` to its state. */
function logService(name: string) {
  return service({
    name,
    key: (input: { id: string }) => input.id,
    init: async () => ({ seen: [] as string[] }),
    onSend: {
      note: async (p: { v: string }, state) => ({ state: { seen: [...state.seen, `note:${p.v}`] } }),
    },
    onAsk: {
      seen: async (_p: void, state) => ({ reply: state.seen }),
    },
  });
}

describe("services: one turn at a time", () => {
  test("a turn that sleeps holds later messages back until it completes", async () => {
    const clock = createManualClock();
    const slow = service({
      name: "slow",
      key: (input: { id: string }) => input.id,
      init: async () => ({ seen: [] as string[] }),
      onSend: {
        nap: async (_p: void, state, ctx) => {
          await ctx.sleep("1m");
          return { state: { seen: [...state.seen, "nap"] } };
        },
        note: async (p: { v: string }, state) => ({ state: { seen: [...state.seen, `note:${p.v}`] } }),
      },
      onAsk: { seen: async (_p: void, state) => ({ reply: state.seen }) },
    });
    await using rt = await createRuntime({ definitions: [slow], clock, logLevel: "silent" });
    const ref = await rt.connect(slow, { id: "a" });
    await ref.send.nap();
    await ref.send.note({ v: "after" });
    await eventually(async () => ((await ref.status()) === "waiting" ? true : undefined));
    const during = await rt.inspect(ref.id);
    expect(during.queued.map((m) => [m.name, m.status])).toEqual([
      ["nap", "active"],
      ["note", "queued"],
    ]);
    expect(during.run.state).toBeUndefined();
    clock.advance(60_000);
    expect(await ref.ask.seen(undefined, { timeout: "5s" })).toEqual(["nap", "note:after"]);
  });

  test("messages from one sender are handled in the order they were sent", async () => {
    const svc = logService("ordered");
    const sender = workflow({
      name: "sender",
      run: async (input: { count: number }, ctx) => {
        const ref = await ctx.connect(svc, { id: "one" });
        for (let i = 0; i < input.count; i++) await ref.send.note({ v: String(i) });
        return ref.ask.seen();
      },
    });
    await using rt = await createRuntime({ definitions: [svc, sender], logLevel: "silent" });
    const seen = await (await rt.start(sender, { count: 30 })).result();
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `note:${i}`));
  });
});

describe("services: bounded mailbox", () => {
  test("a full mailbox rejects new mail with service_overloaded and records the rejection", async () => {
    const clock = createManualClock();
    const svc = service({
      name: "tiny",
      key: (input: { id: string }) => input.id,
      init: async () => ({ n: 0 }),
      mailbox: { maxQueued: 2 },
      onSend: {
        block: async (_p: void, state, ctx) => (await ctx.sleep("1m"), { state: { n: state.n + 1 } }),
        bump: async (_p: void, state) => ({ state: { n: state.n + 1 } }),
      },
    });
    await using rt = await createRuntime({ definitions: [svc], clock, logLevel: "silent" });
    const ref = await rt.connect(svc, { id: "x" });
    await ref.send.block();
    await eventually(async () => ((await ref.status()) === "waiting" ? true : undefined));
    await ref.send.bump();
    await ref.send.bump();
    const error = await ref.send.bump().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "ServiceCallError", code: "service_overloaded", serviceRunId: ref.id, messageName: "tiny.bump" });
    const { events, queued } = await rt.inspect(ref.id);
    expect(queued).toHaveLength(3); // the active one and two queued
    expect(events.filter((e) => e.type === "message_rejected")).toEqual([expect.objectContaining({ reason: "service_overloaded", name: "bump" })]);
    clock.advance(60_000);
    await eventually(async () => ((await ref.status()) === "idle" ? true : undefined));
    expect((await rt.inspect(ref.id)).run.state).toEqual({ n: 3 });
  });
});

describe("services: defer and reject", () => {
  test("defer puts the message back with a higher attempt, and a later message runs first", async () => {
    const clock = createManualClock();
    const attempts: number[] = [];
    const svc = service({
      name: "picky",
      key: (input: { id: string }) => input.id,
      init: async () => ({ seen: [] as string[] }),
      onSend: {
        later: async (_p: void, state, ctx) => {
          attempts.push(ctx.mailbox().current.attempt);
          if (ctx.mailbox().current.attempt === 1) ctx.defer({ delay: "30s", reason: "not yet" });
          return { state: { seen: [...state.seen, "later"] } };
        },
        now: async (_p: void, state) => ({ state: { seen: [...state.seen, "now"] } }),
      },
      onAsk: { seen: async (_p: void, state) => ({ reply: state.seen }) },
    });
    await using rt = await createRuntime({ definitions: [svc], clock, logLevel: "silent" });
    const ref = await rt.connect(svc, { id: "p" });
    await ref.send.later();
    await ref.send.now();
    await eventually(async () => {
      const { queued } = await rt.inspect(ref.id);
      return queued.length === 1 && queued[0]!.status === "deferred" ? true : undefined;
    });
    expect((await rt.inspect(ref.id)).run.state).toEqual({ seen: ["now"] });
    clock.advance(30_000);
    await eventually(async () => ((await rt.inspect(ref.id)).queued.length === 0 ? true : undefined));
    expect((await rt.inspect(ref.id)).run.state).toEqual({ seen: ["now", "later"] });
    expect(attempts).toEqual([1, 2]);
    const { events } = await rt.inspect(ref.id);
    expect(events.find((e) => e.type === "message_deferred")).toMatchObject({ name: "later", delayMs: 30_000, reason: "not yet" });
  });

  test("reject fails the message without retry and the asker gets service_turn_rejected", async () => {
    let calls = 0;
    const svc = service({
      name: "gate",
      key: (input: { id: string }) => input.id,
      retry: { retries: 3, backoff: "1ms" },
      onAsk: {
        enter: async (p: { age: number }, _state, ctx) => {
          calls++;
          if (p.age < 18) ctx.reject({ message: "too young", reason: "age", details: { min: 18 } });
          return { reply: "welcome" };
        },
      },
    });
    const asker = workflow({
      name: "asker",
      run: async (input: { age: number }, ctx) => {
        const ref = await ctx.connect(svc, { id: "door" });
        try {
          return await ref.ask.enter({ age: input.age });
        } catch (error) {
          const e = error as { code: string; cause: { message: string; details: unknown } };
          return { code: e.code, message: e.cause.message, details: e.cause.details };
        }
      },
    });
    await using rt = await createRuntime({ definitions: [svc, asker], logLevel: "silent" });
    expect(await (await rt.start(asker, { age: 12 })).result()).toEqual({
      code: "service_turn_rejected",
      message: "too young",
      details: { reason: "age", details: { min: 18 } },
    });
    expect(calls).toBe(1);
    expect(await (await rt.start(asker, { age: 30 })).result()).toBe("welcome");
  });
});

describe("services: ask timeout, failing turns, stop", () => {
  test("an ask with a timeout fails with ask_timeout and its unstarted message is withdrawn", async () => {
    const clock = createManualClock();
    const svc = service({
      name: "sluggish",
      key: (input: { id: string }) => input.id,
      onSend: { block: async (_p: void, _s, ctx) => void (await ctx.sleep("1h")) },
      onAsk: { ping: async () => ({ reply: "pong" }) },
    });
    const asker = workflow({
      name: "hasty",
      run: async (_: void, ctx) => {
        const ref = await ctx.connect(svc, { id: "s" });
        await ref.send.block();
        try {
          return await ref.ask.ping(undefined, { timeout: "10s" });
        } catch (error) {
          return (error as { code: string }).code;
        }
      },
    });
    await using rt = await createRuntime({ definitions: [svc, asker], clock, logLevel: "silent" });
    const run = await rt.start(asker);
    await eventually(async () => ((await run.status()) === "waiting" ? true : undefined));
    clock.advance(10_000);
    expect(await run.result({ timeout: "5s" })).toBe("ask_timeout");
    const { queued } = await rt.inspect("svc:sluggish:s");
    expect(queued.map((m) => m.name)).toEqual(["block"]); // the ping was withdrawn
  });

  test("a failing turn is retried by the service's policy, then fails for good, and the next message goes on", async () => {
    const attempts: number[] = [];
    const svc = service({
      name: "flaky",
      key: (input: { id: string }) => input.id,
      init: async () => ({ ok: 0 }),
      retry: { retries: 2, backoff: "1ms" },
      onAsk: {
        boom: async (_p: void, _state, ctx) => {
          attempts.push(ctx.mailbox().current.attempt);
          throw new Error("kaput");
        },
        fine: async (_p: void, state) => ({ state: { ok: state.ok + 1 }, reply: "fine" }),
      },
    });
    await using rt = await createRuntime({ definitions: [svc], logLevel: "silent" });
    const ref = await rt.connect(svc, { id: "f" });
    const failed = ref.ask.boom().catch((e: unknown) => e);
    const fine = ref.ask.fine();
    expect(await failed).toMatchObject({ code: "service_call_failed", cause: { message: "kaput" } });
    expect(await fine).toBe("fine");
    expect(attempts).toEqual([1, 2, 3]);
    const { events } = await rt.inspect(ref.id);
    expect(events.filter((e) => e.type === "turn_failed").map((e) => e.decision)).toEqual(["scheduled", "scheduled", "attempts_exhausted"]);
  });

  test("stop fails the backlog with service_stopped, cancels the instance's waits and refuses new mail", async () => {
    const clock = createManualClock();
    const svc = service({
      name: "stoppable",
      key: (input: { id: string }) => input.id,
      onSend: { block: async (_p: void, _s, ctx) => void (await ctx.waitForSignal("never")) },
      onAsk: { ping: async () => ({ reply: "pong" }) },
    });
    await using rt = await createRuntime({ definitions: [svc], clock, logLevel: "silent" });
    const ref = await rt.connect(svc, { id: "s" });
    await ref.send.block();
    await eventually(async () => ((await ref.status()) === "waiting" ? true : undefined));
    const backlog = ref.ask.ping().catch((e: unknown) => e);
    await eventually(async () => ((await rt.inspect(ref.id)).queued.length === 2 ? true : undefined));
    expect((await rt.stop(ref.id, { reason: "maintenance" })).status).toBe("stopped");
    expect(await backlog).toMatchObject({ code: "service_stopped" });
    const inspection = await rt.inspect(ref.id);
    expect(inspection.queued).toEqual([]);
    expect(inspection.ops.filter((o) => o.kind === "signal").map((o) => o.status)).toEqual(["cancelled"]);
    expect(await ref.send.block().catch((e: unknown) => e)).toMatchObject({ code: "service_stopped" });
  });

  test("a handler returning stop: true stops the instance after its turn", async () => {
    const svc = service({
      name: "oneShot",
      key: (input: { id: string }) => input.id,
      onAsk: { last: async () => ({ reply: "bye", stop: true }) },
    });
    await using rt = await createRuntime({ definitions: [svc], logLevel: "silent" });
    const ref = await rt.connect(svc, { id: "o" });
    expect(await ref.ask.last()).toBe("bye");
    expect(await ref.status()).toBe("stopped");
    expect(await ref.ask.last().catch((e: unknown) => e)).toMatchObject({ code: "service_stopped" });
  });
});
