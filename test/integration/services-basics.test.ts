import { describe, expect, test } from "bun:test";
import { createRuntime, tempDatabase } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";
import { reviewCoordinator, reviewer, STARTER_EVENTS, withoutParking } from "../helpers/reviewer.ts";


describe("services: the starter pair", () => {
  test("reviewCoordinator connects, sends a hint and asks for the status", async () => {
    await using rt = await createRuntime({ definitions: [reviewer, reviewCoordinator], logLevel: "silent" });
    const run = await rt.start(reviewCoordinator, { repoId: "repo_123", note: "Ship 0.1" });
    expect(await run.result({ timeout: "5s" })).toEqual({
      reviewerRunId: "svc:reviewer:repo_123",
      status: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] },
    });
    const { events } = await rt.inspect(run.id);
    expect(withoutParking(events.map((e) => e.type))).toEqual(STARTER_EVENTS);
  });

  test("rt.connect gives a typed ref, and inspect shows state, status and the turns", async () => {
    const database = tempDatabase();
    await using rt = await createRuntime({ database, definitions: [reviewer, reviewCoordinator], logLevel: "silent" });
    await (await rt.start(reviewCoordinator, { repoId: "repo_9", note: "first" })).result();
    const ref = await rt.connect(reviewer, { repoId: "repo_9" });
    await ref.send.hint({ note: "second" });
    expect(await ref.ask.status()).toEqual({ repoId: "repo_9", noteCount: 2, notes: ["first", "second"] });
    expect(await ref.status()).toBe("idle");
    await rt.close();

    // Durable: a fresh runtime on the same file sees the same instance and state.
    await using again = await createRuntime({ database, definitions: [reviewer], logLevel: "silent" });
    const inspection = await again.inspect("svc:reviewer:repo_9");
    expect(inspection.run).toMatchObject({
      kind: "service",
      status: "idle",
      key: "repo_9",
      keyInput: { repoId: "repo_9" },
      state: { repoId: "repo_9", notes: ["first", "second"] },
    });
    expect(inspection.queued).toEqual([]);
    expect(inspection.turns.map((t) => [t.kind, t.name, t.status])).toEqual([
      ["send", "hint", "done"],
      ["ask", "status", "done"],
      ["send", "hint", "done"],
      ["ask", "status", "done"],
    ]);
    expect(inspection.turns[1]!.reply).toEqual({ repoId: "repo_9", noteCount: 1, notes: ["first"] });
  });

  test("init runs once, in the first turn, and a result without state keeps the state", async () => {
    let inits = 0;
    const counter = service({
      name: "counter",
      key: (input: { id: string }) => input.id,
      init: async (input) => (inits++, { id: input.id, count: 0 }),
      onSend: { add: async (p: { by: number }, state) => ({ state: { ...state, count: state.count + p.by } }), noop: async () => {} },
      onAsk: { get: async (_p: void, state) => ({ reply: state.count }) },
    });
    await using rt = await createRuntime({ definitions: [counter], logLevel: "silent" });
    const ref = await rt.connect(counter, { id: "a" });
    await ref.send.add({ by: 2 });
    await ref.send.noop(undefined);
    await ref.send.add({ by: 3 });
    expect(await ref.ask.get()).toBe(5);
    expect(inits).toBe(1);
  });

  test("connect with mustExist fails for a missing instance, in a script and in a workflow", async () => {
    const wf = workflow({
      name: "strict",
      run: async (_: void, ctx) => {
        try {
          await ctx.connect(reviewer, { repoId: "ghost" }, { mustExist: true });
          return "connected";
        } catch (error) {
          return (error as { code: string }).code;
        }
      },
    });
    await using rt = await createRuntime({ definitions: [reviewer, wf], logLevel: "silent" });
    const refused = await rt.connect(reviewer, { repoId: "ghost" }, { mustExist: true }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: "not_found", message: 'service "reviewer" has no instance with key "ghost"' });
    expect(await (await rt.start(wf)).result()).toBe("not_found");
    expect(await rt.list()).toHaveLength(1); // the workflow run only: no instance was created
  });

  test("a handler name the service does not have is a clear error", async () => {
    await using rt = await createRuntime({ definitions: [reviewer], logLevel: "silent" });
    const ref = await rt.connect(reviewer, { repoId: "r" });
    expect(() => (ref.send as unknown as Record<string, unknown>).nope).toThrow('service "reviewer" has no onSend handler "nope" (it has: hint)');
  });

  test("service-only members called from a workflow throw wrong_context naming the member", async () => {
    const wf = workflow({
      name: "confused",
      run: async (_: void, ctx) => {
        try {
          (ctx as unknown as { mailbox(): unknown }).mailbox();
          return "no error";
        } catch (error) {
          return { code: (error as { code: string }).code, message: (error as Error).message };
        }
      },
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    expect(await (await rt.start(wf)).result()).toEqual({
      code: "wrong_context",
      message: "ctx.mailbox() is only available inside a service turn, not in a workflow",
    });
  });
});

describe("services: sends outlive their sender", () => {
  test("messages a workflow sent are all handled even when it finishes first", async () => {
    const sender = workflow({
      name: "fireAndForget",
      run: async (_: void, ctx) => {
        const ref = await ctx.connect(reviewer, { repoId: "ff" });
        for (let i = 0; i < 5; i++) await ref.send.hint({ note: `n${i}` });
        return "sent";
      },
    });
    await using rt = await createRuntime({ definitions: [reviewer, sender], logLevel: "silent" });
    expect(await (await rt.start(sender)).result()).toBe("sent");
    const ref = await rt.connect(reviewer, { repoId: "ff" });
    expect((await ref.ask.status()).notes).toEqual(["n0", "n1", "n2", "n3", "n4"]);
  });
});

describe("services: replies delivered to live code", () => {
  test("a reply taken live is the one a later replay of the run sees", async () => {
    let activations = 0;
    const wf = workflow({
      name: "askThenNap",
      run: async (_: void, ctx) => {
        activations++;
        const ref = await ctx.connect(reviewer, { repoId: "live" });
        await ref.send.hint({ note: "one" });
        const first = await ref.ask.status();
        await ctx.sleep(5); // forces a replay: the ask must resolve from history to the same reply
        const second = await ref.ask.status();
        return { first: first.noteCount, second: second.noteCount };
      },
    });
    await using rt = await createRuntime({ definitions: [reviewer, wf], logLevel: "silent", liveExecutions: 0 });
    const run = await rt.start(wf);
    expect(await run.result({ timeout: "5s" })).toEqual({ first: 1, second: 1 });
    expect(activations).toBeGreaterThanOrEqual(2);
    const asks = (await rt.inspect(run.id)).ops.filter((o) => o.kind === "ask").map((o) => [o.opKey, o.status, (o.result as { noteCount: number }).noteCount]);
    expect(asks).toEqual([
      ["ask:reviewer.status:0", "completed", 1],
      ["ask:reviewer.status:1", "completed", 1],
    ]);
  });
});

describe("services: the cost of an ask", () => {
  test("an ask from a script takes no more commits than an ask from a workflow (two: the message, then the turn)", async () => {
    const counter = service({ name: "commitCounter", key: (i: { k: string }) => i.k, init: () => ({ n: 0 }), onAsk: { inc: (_: void, s: { n: number }) => ({ reply: s.n + 1, state: { n: s.n + 1 } }) } });
    const asker = workflow({
      name: "commitAsker",
      run: async (_: void, ctx) => {
        const ref = await ctx.connect(counter, { k: "w" });
        let last = 0;
        for (let i = 0; i < 20; i++) last = await ref.ask.inc();
        return last;
      },
    });
    await using rt = await createRuntime({ definitions: [counter, asker], logLevel: "silent" });
    const ref = await rt.connect(counter, { k: "script" });
    await ref.ask.inc();
    const before = rt.stats.batches;
    for (let i = 0; i < 20; i++) await ref.ask.inc();
    const perScriptAsk = (rt.stats.batches - before) / 20;
    await (await rt.start(asker)).result();
    const again = rt.stats.batches;
    expect(await (await rt.start(asker)).result()).toBe(40);
    const perWorkflowAsk = (rt.stats.batches - again) / 20;
    expect(perScriptAsk).toBe(2);
    expect(perScriptAsk).toBeLessThanOrEqual(perWorkflowAsk);
  });
});
