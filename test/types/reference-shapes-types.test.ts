/**
 * Types of the reference SDK's shapes: refs called by handler name, their `definitionName` and
 * `serviceKey`, the retry shorthand and jitter form, `reject(error)` and the members' fields. Each
 * `@ts-expect-error` marks code that is wrong at run time; tsc reports "Unused '@ts-expect-error'
 * directive" where the types let it through.
 */
import { expect, test } from "bun:test";
import { service, workflow, type SupervisedMember } from "../../src/sdk/index.ts";

export const desk = service({
  name: "desk",
  key: (input: { team: string }) => input.team,
  init: async () => ({ hints: [] as string[] }),
  onSend: { hint: async (p: { note: string }, state) => ({ state: { hints: [...state.hints, p.note] } }) },
  onAsk: {
    status: async (p: { verbose: boolean }, state) => ({ reply: { hints: state.hints, verbose: p.verbose } }),
    count: async (_p: void, state) => ({ reply: state.hints.length }),
    refuse: async (p: { why: string }, _state, ctx) => ctx.reject(new Error(p.why)),
    refuseText: async (_p: void, _state, ctx) => ctx.reject("no"),
  },
  onSignal: { poke: async (_p: { n: number }) => undefined },
});

export const caller = workflow({
  name: "caller",
  run: async (_input: void, ctx) => {
    const ref = await ctx.connect(desk, { team: "a" });
    const name: string = ref.definitionName;
    const key: string = ref.serviceKey;

    await ref.send("hint", { note: "x" });
    await ref.send("hint", { note: "x" }, { key: "hint-once" });
    await ref.signal("poke", { n: 1 });
    const status: { hints: string[]; verbose: boolean } = await ref.ask("status", { verbose: true }, { timeout: "5s", key: "k" });
    const count: number = await ref.ask("count");
    const counted: number = await ref.ask.count(undefined, { key: "c" });

    // @ts-expect-error no such ask handler
    await ref.ask("nope", {});
    // @ts-expect-error hint is a send handler, not an ask handler
    await ref.ask("hint", { note: "x" });
    // @ts-expect-error the payload of status is { verbose: boolean }
    await ref.ask("status", { verbose: "yes" });
    // @ts-expect-error status needs its payload
    await ref.ask("status");
    // @ts-expect-error the reply of count is a number
    const wrong: string = await ref.ask("count");
    // @ts-expect-error the payload of hint is { note: string }
    await ref.send("hint", { note: 1 });
    // @ts-expect-error no such send handler
    await ref.send("status", { verbose: true });
    // @ts-expect-error asks take no such option
    await ref.ask("count", undefined, { timout: "1s" });
    // @ts-expect-error sends take no timeout
    await ref.send("hint", { note: "x" }, { timeout: "1s" });

    const group = ctx.supervise();
    const members: SupervisedMember[] = await group.members();
    const first = members[0]!;
    const fields: [string, number, string, unknown] = [first.definitionName, first.generation, first.currentRunId, first.input];

    await ctx.step("a", () => 1, { retries: 2, backoff: { kind: "exponential", initial: "10ms", jitter: { kind: "ratio", ratio: 0.3 } }, on: ["application"] });
    await ctx.exec({ name: "e", cmd: "true", retries: 1, backoff: "1s", on: ["process_exit"] });
    // @ts-expect-error retries is a number
    await ctx.step("b", () => 1, { retries: "2" });
    // @ts-expect-error a ratio jitter needs its ratio
    await ctx.step("c", () => 1, { retries: 1, backoff: { kind: "fixed", delay: "1s", jitter: { kind: "ratio" } } });
    // @ts-expect-error no such failure family
    await ctx.exec({ name: "f", cmd: "true", retries: 1, on: ["crash"] });

    return { name, key, status, count, counted, wrong, fields };
  },
});

test("reference shapes type-check (checked by tsc)", () => {
  expect(desk.kind).toBe("service");
  expect(caller.kind).toBe("workflow");
});
