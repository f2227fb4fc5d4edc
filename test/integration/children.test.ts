/**
 * Child runs (`ctx.spawn`), in this process and through worker processes: keyed fan-out with one
 * suspension of the parent, reuse and fresh policies, failures and cancellation crossing from child
 * to parent and back, signals and status; plus `turnAttempt`, `lookup` and kernel-made reasons.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Runtime } from "../../src/embedded/index.ts";
import { createRuntime } from "../helpers/stores.ts";
import { installSdkModule } from "../../src/project/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "child-flows.ts"), "utf8");
const project = writeProject({ "src/flows.ts": FLOWS });
const logger = createLogger("silent");
const opened: Runtime[] = [];
afterAll(async () => {
  for (const rt of opened) await rt.close();
});

/** Opens a runtime of a mode, closed after the file's tests. */
async function opening(make: () => Promise<Runtime>): Promise<Runtime> {
  const rt = await make();
  opened.push(rt);
  return rt;
}

/** Waits until run `id` exists and has `status`. */
const reaches = (rt: Runtime, id: string, status: string) =>
  eventually(async () => ((await rt.inspect(id).catch(() => null))?.run.status === status ? true : undefined), 5_000, `${id} to be ${status}`);

const modes = [
  [
    "in-process",
    async () => {
      installSdkModule();
      return createRuntime({ definitions: Object.values(await import(join(project, "src", "flows.ts"))), logger });
    },
  ],
  ["workers", () => createRuntime({ workers: 2, project, workspace: tempDir("vilano-workspace-"), logger })],
] as const;

describe.each(modes)("children (%s)", (_mode, make) => {
  const open = () => opening(make);

  test("fan-out: three keyed children, Promise.all of their results, no more suspensions of the parent than children", async () => {
    const rt = await open();
    const run = await rt.start("fanOut", { ids: ["x", "y", "z"] });
    const output = (await run.result({ timeout: "10s" })) as { children: string[]; pages: unknown[] };
    expect(output.pages).toEqual([
      { id: "x", page: "page-x" },
      { id: "y", page: "page-y" },
      { id: "z", page: "page-z" },
    ]);
    expect(output.children).toEqual([`${run.id}~fetch:x`, `${run.id}~fetch:y`, `${run.id}~fetch:z`]);

    const parent = await rt.inspect(run.id);
    expect(parent.children.map((c) => [c.id, c.name, c.status])).toEqual(output.children.map((id) => [id, "fetchOne", "completed"]));
    expect(parent.events.filter((e) => e.type === "child_started")).toHaveLength(3);
    // Each wake-up comes from a child's end (ends in one batch wake it once, ends while it runs are
    // taken live): usually one suspension; never more than one per child.
    expect(parent.events.filter((e) => e.type === "run_waiting").length).toBeLessThanOrEqual(3);
    for (const id of output.children) {
      const child = await rt.inspect(id);
      expect(child.run.parentId).toBe(run.id);
      expect(child.events.filter((e) => e.type === "step_completed")).toHaveLength(1);
    }
  });

  test("the same key gives the same child; policy fresh gives a new child on each call", async () => {
    const rt = await open();
    const run = await rt.start("keyedSpawns");
    const { ids, results } = (await run.result({ timeout: "10s" })) as { ids: string[]; results: unknown[] };
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[3]);
    expect(new Set(ids).size).toBe(3);
    expect(results).toEqual([{ id: "a", page: "page-a" }, { id: "a", page: "page-a" }, { id: "f", page: "page-f" }, { id: "f", page: "page-f" }]);
    expect((await rt.inspect(run.id)).children).toHaveLength(3);
    const started = (await rt.inspect(run.id)).events.filter((e) => e.type === "child_started");
    expect(started.map((e) => e.reused === true)).toEqual([false, true, false, false]);
  });

  test("a failed child makes result() throw ChildFailedError with the child's error as cause and its id", async () => {
    const rt = await open();
    const run = await rt.start("catchesChild");
    expect(await run.result({ timeout: "10s" })).toEqual({
      caught: true,
      name: "ChildFailedError",
      code: "child_failed",
      childRunId: `${run.id}~doomed`,
      cause: expect.objectContaining({ message: "child gave up: bad input", name: "NonRetryableError", retryable: false }),
      status: "failed",
    });
  });

  test("cancelling a parent cancels its waiting child, and a cancelled child fails the parent's result()", async () => {
    const rt = await open();
    const run = await rt.start("parentOfWaiter");
    const childId = `${run.id}~waiter`;
    await reaches(rt, run.id, "waiting");
    await reaches(rt, childId, "waiting");
    await rt.cancel(run.id, { reason: "enough" });
    const child = await rt.inspect(childId);
    expect(child.run.status).toBe("cancelled");
    expect(child.events.map((e) => e.type)).toContain("cancelled_with_parent");
    expect(child.ops.find((op) => op.kind === "signal")?.status).toBe("cancelled");

    // The other way round: a child cancelled on its own fails the parent that waits on it.
    const second = await rt.start("parentOfWaiter", undefined, { id: `${run.id}-2` });
    const secondChild = `${second.id}~waiter`;
    await reaches(rt, secondChild, "waiting");
    await rt.cancel(secondChild);
    const failure = await second.result({ timeout: "10s" }).then(
      () => null,
      (error: { cause: { code?: string; reason?: string; details?: { childRunId?: string } } }) => error.cause,
    );
    // The parent did not catch it: it failed with the ChildFailedError, which names the child.
    expect(failure).toMatchObject({ code: "child_failed", details: { childRunId: secondChild } });
    const parent = await rt.inspect(second.id);
    expect(parent.run.error?.name).toBe("ChildFailedError");
    expect(parent.ops.find((op) => op.kind === "child_result")).toMatchObject({
      status: "failed",
      meta: { childRunId: secondChild },
      error: { code: "cancelled", reason: "cancelled" },
    });
  });

  test("a parent signals its child and reads its status; both are recorded once", async () => {
    const rt = await open();
    const run = await rt.start("signalsChild");
    expect(await run.result({ timeout: "10s" })).toEqual({ output: { got: { by: "parent" } }, status: "completed" });
    const parent = await rt.inspect(run.id);
    expect(parent.ops.map((op) => op.kind)).toEqual(["spawn", "child_signal", "child_result", "child_status"]);
    expect(parent.events.filter((e) => e.type === "child_signalled")).toHaveLength(1);
  });

  test("turnAttempt grows on retry; reject reasons reach the asker as cause.reason; lookup never creates", async () => {
    const rt = await open();
    const run = await rt.start("asksFlaky");
    expect(await run.result({ timeout: "10s" })).toEqual({
      attempt: 2,
      given: "x",
      kernels: "service_turn_rejected",
      found: expect.stringContaining("flaky:one"),
      missing: "not_found/not_found",
      turnAttempt: 1,
    });
    expect((await rt.list()).some((r) => r.id.includes("flaky:nobody"))).toBe(false);
  });
});

describe.each(modes)("monitors and links (%s)", (_mode, make) => {
  const open = () => opening(make);

  test("a monitor gets one exit event per target exit, with status and output or error", async () => {
    const rt = await open();
    const run = await rt.start("monitorsTwo");
    const { exits, more } = (await run.result({ timeout: "10s" })) as { exits: Record<string, unknown>[]; more: string };
    expect(exits).toEqual([
      { targetId: `${run.id}~bad`, targetKind: "workflow", relationship: "monitor", status: "failed", at: expect.any(Number), error: expect.objectContaining({ message: "child gave up: monitored" }) },
      { targetId: `${run.id}~ok`, targetKind: "workflow", relationship: "monitor", status: "completed", at: expect.any(Number), output: { id: "m", page: "page-m" } },
    ]);
    expect(more).toBe("exit_timeout");
    const inspection = await rt.inspect(run.id);
    expect(inspection.exits).toHaveLength(2);
    expect(inspection.relationships.map((r) => r.kind)).toEqual(["monitor", "monitor"]);
  });

  test("the untrapped owner of a link is cancelled with linked_exit when the target fails", async () => {
    const rt = await open();
    const run = await rt.start("linkedToDoomed");
    const cause = await run.result({ timeout: "10s" }).then(
      () => null,
      (error: { name: string; cause: Record<string, unknown> }) => ({ thrown: error.name, ...error.cause }),
    );
    expect(cause).toMatchObject({
      thrown: "CancelledError",
      name: "LinkedExitError",
      code: "cancelled",
      reason: "linked_exit",
      details: { targetId: `${run.id}~doomed`, targetStatus: "failed", targetError: { message: "child gave up: linked" } },
    });
    expect((await rt.inspect(run.id)).events.map((e) => e.type)).toContain("linked_exit");
  });

  test("a trapping owner gets the exit event instead", async () => {
    const rt = await open();
    const run = await rt.start("trapsLinked");
    expect(await run.result({ timeout: "10s" })).toMatchObject({ targetId: `${run.id}~doomed`, relationship: "link", status: "failed" });
    expect((await rt.inspect(run.id)).trapsExits).toBe(true);
  });

  test("links are bidirectional: an owner that fails ends its linked child", async () => {
    const rt = await open();
    const run = await rt.start("failsWhileLinked");
    await run.result({ timeout: "10s" }).catch(() => undefined);
    const child = await rt.inspect(`${run.id}~victim`);
    expect(child.run.status).toBe("cancelled");
    expect(child.run.error).toMatchObject({ reason: "linked_exit", details: { targetId: run.id, targetStatus: "failed" } });
  });

  test("propagate all also reports normal completion", async () => {
    const rt = await open();
    const run = await rt.start("linkAll");
    expect(await run.result({ timeout: "10s" })).toMatchObject({ targetId: `${run.id}~fine`, relationship: "link", status: "completed", output: { id: "all", page: "page-all" } });
  });

  test("a relationship to an unrelated run is refused with not_related", async () => {
    const rt = await open();
    const stranger = await rt.start("fetchOne", { id: "s" });
    const run = await rt.start("monitorsStranger", { id: stranger.id });
    expect(await run.result({ timeout: "10s" })).toMatchObject({ code: "not_related" });
  });
});

describe.each(modes)("supervision (%s)", (_mode, make) => {
  type Members = Record<string, { runId: string; restarts: number; status: string }>;
  const open = () => opening(make);
  const membersOf = async (rt: Runtime, owner: string): Promise<Members> => {
    const group = (await rt.inspect(owner)).supervision[0];
    return Object.fromEntries((group?.members ?? []).map((m) => [m.key, m]));
  };
  /** Waits until members a, b and c each have a current run waiting for its verdict. */
  const allWaiting = (rt: Runtime, owner: string) =>
    eventually(async () => {
      const members = await membersOf(rt, owner);
      const keys = ["a", "b", "c"];
      if (!keys.every((k) => members[k])) return undefined;
      for (const k of keys) if ((await rt.inspect(members[k]!.runId)).run.status !== "waiting") return undefined;
      return members;
    }, 5_000, "every member to wait for its verdict");

  async function failB(strategy: string, maxRestarts = 3) {
    const rt = await open();
    const owner = await rt.start("supervises", { strategy, maxRestarts });
    const before = await allWaiting(rt, owner.id);
    await rt.signal(before.b!.runId, "verdict", { ok: false });
    const after = await allWaiting(rt, owner.id);
    const restarted = ["a", "b", "c"].filter((k) => after[k]!.runId !== before[k]!.runId);
    return { rt, owner, before, after, restarted };
  }

  async function finish(rt: Runtime, owner: string, after: Members) {
    for (const k of ["a", "b", "c"]) await rt.signal(after[k]!.runId, "verdict", { ok: true });
    return (await rt.result(owner, { timeout: "10s" })) as { results: { key: string; run: string }[]; members: { key: string; restarts: number }[]; current: string };
  }

  test("one_for_one restarts only the failed member; its result() survives the restart", async () => {
    const { rt, owner, before, after, restarted } = await failB("one_for_one");
    expect(restarted).toEqual(["b"]);
    expect(after.b!.runId).toBe(`${before.b!.runId}.r1`);
    expect((await rt.inspect(before.b!.runId)).run.status).toBe("failed");
    const output = await finish(rt, owner.id, after);
    expect(output.results.map((r) => r.run)).toEqual([after.a!.runId, after.b!.runId, after.c!.runId]);
    expect(output.members.map((m) => [m.key, m.restarts])).toEqual([["a", 0], ["b", 1], ["c", 0]]);
    expect(output.current).toBe(after.b!.runId);
    expect((await rt.inspect(owner.id)).events.filter((e) => e.type === "member_restarted")).toHaveLength(1);
  });

  test("one_for_all restarts every member", async () => {
    const { rt, owner, before, restarted, after } = await failB("one_for_all");
    expect(restarted).toEqual(["a", "b", "c"]);
    expect((await rt.inspect(before.a!.runId)).run).toMatchObject({ status: "cancelled", error: { reason: "supervisor_restart" } });
    expect((await finish(rt, owner.id, after)).members.map((m) => m.restarts)).toEqual([1, 1, 1]);
  });

  test("rest_for_one restarts the failed member and those started after it", async () => {
    const { rt, owner, restarted, after } = await failB("rest_for_one");
    expect(restarted).toEqual(["b", "c"]);
    expect((await finish(rt, owner.id, after)).members.map((m) => m.restarts)).toEqual([0, 1, 1]);
  });

  test("a restart budget exhausted within the window fails the owner with supervision_exhausted", async () => {
    const { rt, owner, after } = await failB("one_for_one", 1);
    await rt.signal(after.b!.runId, "verdict", { ok: false });
    const error = await rt.result(owner.id, { timeout: "10s" }).then(
      () => null,
      (e: { cause: { code?: string; reason?: string } }) => e.cause,
    );
    expect(error).toMatchObject({ code: "supervision_exhausted", reason: "supervision_exhausted" });
    const inspection = await rt.inspect(owner.id);
    expect(inspection.supervision[0]).toMatchObject({ exhausted: true, strategy: "one_for_one" });
    // The owner's end takes its members with it.
    for (const m of inspection.supervision[0]!.members) expect(["cancelled", "failed"]).toContain(m.status);
  });
});

describe("pubsub and singletons", () => {
  const definitions = async () => {
    installSdkModule();
    return Object.values(await import(join(project, "src", "flows.ts")));
  };
  const inProcess = async (database: string) => {
    const rt = await createRuntime({ database, definitions: await definitions(), logger });
    opened.push(rt);
    return rt;
  };
  const listenerRef = async (rt: Runtime, id: string) => {
    const flows = (await import(join(project, "src", "flows.ts"))) as { listener: never };
    return rt.connect(flows.listener, { id } as never) as unknown as Promise<{
      id: string;
      ask: {
        join(p: { topic: string; signal?: string }): Promise<unknown>;
        heard(): Promise<string[]>;
        last(): Promise<unknown>;
        leave(p: { topic: string }): Promise<unknown>;
      };
      send: { hold(): Promise<void>; noop(): Promise<void> };
    }>;
  };

  test("publish reaches every subscribed, not-stopped instance once per publish op, also across a replay and a restart", async () => {
    const database = join(tempDir(), "runtime.sqlite");
    const rt = await inProcess(database);
    const one = await listenerRef(rt, "one");
    const two = await listenerRef(rt, "two");
    const gone = await listenerRef(rt, "gone");
    const bystander = await listenerRef(rt, "bystander");
    for (const ref of [one, two, gone]) expect(await ref.ask.join({ topic: "news" })).toEqual({ topic: "news", signal: "news" });
    expect((await rt.inspect(one.id)).subscriptions).toEqual([{ topic: "news", signal: "news" }]);
    await rt.stop(gone.id);
    expect(await (await rt.start("publisher", { text: "first" })).result({ timeout: "10s" })).toMatchObject({ topic: "news", matched: 2, enqueued: 2, rejected: 0 });
    expect(await one.ask.heard()).toEqual(["first"]);
    expect(await two.ask.heard()).toEqual(["first"]);
    expect(await bystander.ask.heard()).toEqual([]);
    await rt.close();

    // Subscriptions are durable: a new runtime on the same database delivers the next publish.
    const again = await inProcess(database);
    const run = await again.start("publisher", { text: "second" });
    expect(await run.result({ timeout: "10s" })).toMatchObject({ matched: 2, enqueued: 2, publishId: `${run.id}/publish:news:0` });
    expect(await (await listenerRef(again, "one")).ask.heard()).toEqual(["first", "second"]);
    // A handler gets the publish with its topic, its id and the run that made it.
    expect(await (await listenerRef(again, "one")).ask.last()).toEqual({
      topic: "news",
      payload: { text: "second" },
      publishId: `${run.id}/publish:news:0`,
      publisherRunId: run.id,
    });
    expect(await (await listenerRef(again, "one")).ask.leave({ topic: "news" })).toEqual({ topic: "news" });
    expect(await (await again.start("publisher", { text: "third" })).result({ timeout: "10s" })).toMatchObject({ matched: 1 });
  });

  test("a full mailbox rejects the delivery and the publish counts it", async () => {
    const rt = await inProcess(join(tempDir(), "runtime.sqlite"));
    const busy = await listenerRef(rt, "busy");
    expect(await busy.ask.join({ topic: "news" })).toEqual({ topic: "news", signal: "news" });
    await busy.send.hold();
    await busy.send.noop();
    await busy.send.noop();
    expect(await (await rt.start("publisher", { text: "dropped" })).result({ timeout: "10s" })).toMatchObject({ matched: 1, enqueued: 0, rejected: 1 });
    expect((await rt.inspect(busy.id)).events.filter((e) => e.type === "message_rejected")).toHaveLength(1);
  });

  test("subscribing names a missing signal handler clearly; a service-only member in a workflow names itself", async () => {
    const rt = await inProcess(join(tempDir(), "runtime.sqlite"));
    const ref = await listenerRef(rt, "picky");
    expect(await ref.ask.join({ topic: "news", signal: "gossip" })).toBe(
      'ctx.subscribe("news"): service "listener" has no onSignal handler "gossip" to deliver to (it has: news); add one or pass { signal: "<handler>" }',
    );
    expect(await ref.ask.join({ topic: "weather" })).toContain('has no onSignal handler "weather"');
    expect(await (await rt.start("subscribesInWorkflow")).result({ timeout: "10s" })).toEqual({
      code: "wrong_context",
      message: "ctx.subscribe() is only available inside a service turn, not in a workflow",
    });
  });

  test("lookupSingleton finds the instance of the service declaring the role, and never creates it", async () => {
    const rt = await inProcess(join(tempDir(), "runtime.sqlite"));
    expect(await (await rt.start("findsRegistry")).result({ timeout: "10s" })).toEqual({ missing: "not_found" });
    expect((await rt.list()).some((r) => r.kind === "service")).toBe(false);
    const flows = (await import(join(project, "src", "flows.ts"))) as { registry: never };
    const created = await rt.connect(flows.registry, undefined as never);
    expect(await (await rt.start("findsRegistry")).result({ timeout: "10s" })).toEqual({ found: (created as { id: string }).id, ping: "pong" });
  });
});

describe.each(modes)("edges of children and supervision (%s)", (_mode, make) => {
  const open = () => opening(make);

  test("a one_for_all restart that ends its owner (through a link) starts nothing again", async () => {
    const rt = await open();
    const owner = await rt.start("linksMember");
    for (const k of ["a", "b", "c"]) await reaches(rt, `${owner.id}~supervise:0.${k}`, "waiting");
    await reaches(rt, owner.id, "waiting");
    await rt.signal(`${owner.id}~supervise:0.a`, "verdict", { ok: false });
    await reaches(rt, owner.id, "cancelled");
    const inspection = await rt.inspect(owner.id);
    expect(inspection.run.error).toMatchObject({ reason: "linked_exit" });
    expect(inspection.children.map((c) => c.status).filter((s) => s !== "failed" && s !== "cancelled")).toEqual([]);
    expect(inspection.children).toHaveLength(3);
    expect(inspection.supervision[0]!.members.map((m) => m.restarts)).toEqual([0, 0, 0]);
  });

  test("one_for_all leaves a member that already completed alone", async () => {
    const rt = await open();
    const owner = await rt.start("quickAndSlow");
    await reaches(rt, `${owner.id}~supervise:0.quick`, "completed");
    await reaches(rt, `${owner.id}~supervise:0.slow`, "waiting");
    await rt.signal(`${owner.id}~supervise:0.slow`, "verdict", { ok: false });
    await reaches(rt, `${owner.id}~supervise:0.slow.r1`, "waiting");
    await rt.signal(`${owner.id}~supervise:0.slow.r1`, "verdict", { ok: true });
    expect(await owner.result({ timeout: "10s" })).toMatchObject({ quick: { id: "q" }, slow: { key: "slow" } });
    const members = (await rt.inspect(owner.id)).supervision[0]!.members;
    expect(members.map((m) => [m.key, m.restarts])).toEqual([["quick", 0], ["slow", 1]]);
  });

  test("a refused spawn's handle gets the conflict and never acts on the other child", async () => {
    const rt = await open();
    const run = await rt.start("clashingKeys");
    expect(await run.result({ timeout: "10s" })).toEqual({ status: "conflict", signal: "conflict", result: "conflict", first: { got: { by: "first" } } });
  });

  test("bad supervision options and a singleton lookup without the key input it needs are clear errors", async () => {
    const rt = await open();
    const message = async (c: string) => (await rt.start("badSupervision", { case: c })).result({ timeout: "10s" });
    expect(await message("window")).toBe("ctx.supervise(): window must be at least 1s, got 0");
    expect(await message("spawnOptions")).toBe('group.spawn("fetchOne"): unknown option "policy" (known: key)');
    expect(await message("singleton")).toStartWith('service "keyedRegistry": key() threw for the key input null:');
  });
});

describe.each(modes)("exit events and retried turns (%s)", (_mode, make) => {
  test("a turn attempt that goes again finds the exit events the failed attempt took, once each", async () => {
    const rt = await make();
    opened.push(rt);
    expect(await (await rt.start("asksWatcher")).result({ timeout: "10s" })).toEqual({ status: "failed", attempt: 2 });
    const watcherId = (await rt.list()).find((r) => r.name === "exitWatcher")!.id;
    expect((await rt.inspect(watcherId)).exits).toHaveLength(1);
  });
});
