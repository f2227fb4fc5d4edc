/**
 * A subscription is part of its turn's atomic outcome (issue 22): committed with the turn's state
 * and reply, thrown away with them when the turn throws, is retried, rejected or deferred. In this
 * process and through worker processes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeProject } from "../helpers/project.ts";
import { runtimeModes } from "../helpers/runtime-modes.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "subscription-flows.ts"), "utf8");
const modes = runtimeModes(writeProject({ "src/flows.ts": FLOWS }));

interface MemberRef {
  id: string;
  ask: Record<string, (payload?: unknown) => Promise<unknown>>;
}

describe.each(modes)("subscriptions commit with their turn (%s)", (_mode, make) => {
  const open = async () => {
    const rt = await make();
    const member = async (id: string) => (await rt.connect("member" as never, { id } as never)) as unknown as MemberRef;
    const failureOf = (call: Promise<unknown>) =>
      call.then(
        () => null,
        (error: { message: string; cause?: { reason?: string } }) => error,
      );
    let lastAnnouncer = "";
    const announce = async (topics: string[]) => {
      const run = await rt.start("announce", { topics });
      lastAnnouncer = run.id;
      return run.result({ timeout: "10s" });
    };
    return { rt, member, failureOf, announce, announcer: () => lastAnnouncer };
  };

  test("a turn that subscribes and then throws leaves no subscription", async () => {
    const { rt, member, failureOf, announce } = await open();
    const m = await member("thrower");
    expect(await failureOf(m.ask.joinThenThrow!({ topic: "news" }))).not.toBeNull();
    expect((await rt.inspect(m.id)).subscriptions).toEqual([]);
    expect(await announce(["news"])).toEqual({ news: 0 });
    expect(await m.ask.heard!()).toEqual([]);
  });

  test("a retried turn keeps only what its committed attempt subscribed", async () => {
    const { rt, member, announce } = await open();
    const m = await member("retrier");
    expect(await m.ask.joinOnRetry!({ first: "one", second: "two" })).toEqual({ topic: "two", signal: "heard" });
    expect((await rt.inspect(m.id)).subscriptions).toEqual([{ topic: "two", signal: "heard" }]);
    expect(await announce(["one", "two"])).toEqual({ one: 0, two: 1 });
    expect(await m.ask.heard!()).toEqual(["two:hello"]);
    const events = (await rt.inspect(m.id)).events.filter((e) => e.type === "subscribed");
    expect(events).toHaveLength(1);
  });

  test("a rejected turn and a deferred attempt leave no subscription", async () => {
    const { rt, member, failureOf, announce } = await open();
    const m = await member("rejecter");
    expect((await failureOf(m.ask.joinThenReject!({ topic: "rejected" })))?.cause?.reason).toBe("closed");
    expect(await m.ask.joinThenDefer!({ topic: "deferred" })).toBe("deferred once");
    expect((await rt.inspect(m.id)).subscriptions).toEqual([]);
    expect(await announce(["rejected", "deferred"])).toEqual({ rejected: 0, deferred: 0 });
  });

  test("an unsubscribe in a turn that throws leaves the subscription in place", async () => {
    const { rt, member, failureOf, announce, announcer } = await open();
    const m = await member("stayer");
    expect(await m.ask.join!({ topic: "news" })).toEqual({ topic: "news", signal: "heard" });
    expect(await failureOf(m.ask.leaveThenThrow!({ topic: "news" }))).not.toBeNull();
    expect((await rt.inspect(m.id)).subscriptions).toEqual([{ topic: "news", signal: "heard" }]);
    expect(await announce(["news"])).toEqual({ news: 1 });
    expect(await m.ask.heard!()).toEqual(["news:hello"]);
    // What the handler got: the publish with its topic, its id and the run that made it.
    expect(await m.ask.last!()).toEqual({ topic: "news", payload: "hello", publishId: `${announcer()}/publish:news:0`, publisherRunId: announcer() });
  });
});
