import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

// A busy target: its first turn sleeps, so asks queue behind it.
const makeTarget = (handled: string[]) =>
  service({
    name: "target",
    key: (i: { id: string }) => i.id,
    onSend: { nap: async (_p: void, _s, ctx) => void (await ctx.sleep("1m")) },
    onAsk: { charge: async (p: { from: string }) => (handled.push(p.from), { reply: "charged" }) },
  });

test("an ask a finished turn abandoned is withdrawn, as one a finished workflow abandoned is", async () => {
  const clock = createManualClock();
  const handled: string[] = [];
  const target = makeTarget(handled);
  const race = async (ctx: Parameters<Parameters<typeof workflow>[0]["run"]>[1], from: string) => {
    const ref = await ctx.connect(target, { id: "t" });
    return Promise.race([ref.ask.charge({ from }), ctx.sleep("1s").then(() => "gave up")]);
  };
  const wf = workflow({ name: "wfCaller", run: async (_i: void, ctx) => race(ctx, "workflow") });
  const caller = service({
    name: "svcCaller",
    key: (i: { id: string }) => i.id,
    onAsk: { go: async (_p: void, _s, ctx) => ({ reply: await race(ctx, "turn") }) },
  });
  await using rt = await createRuntime({ definitions: [target, wf, caller], clock, logLevel: "silent" });
  const t = await rt.connect(target, { id: "t" });
  await t.send.nap();
  await eventually(async () => ((await t.status()) === "waiting" ? true : undefined));
  const run = await rt.start(wf);
  const c = await rt.connect(caller, { id: "c" });
  const asked = c.ask.go();
  await eventually(async () => ((await rt.inspect(t.id)).queued.length === 3 ? true : undefined));
  clock.advance(1_000); // both callers give up and finish
  expect(await run.result({ timeout: "2s" })).toBe("gave up");
  expect(await asked).toBe("gave up");
  clock.advance(60_000); // the target wakes up and works through its inbox
  await eventually(async () => ((await t.status()) === "idle" ? true : undefined));
  expect(handled).toEqual([]); // the workflow's ask was withdrawn; the turn's was handled for nobody
});
