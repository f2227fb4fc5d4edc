import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

test("a service signal reaches the current turn's wait, not a wait an earlier turn abandoned", async () => {
  const clock = createManualClock();
  const svc = service({
    name: "sigsvc",
    key: (i: { id: string }) => i.id,
    init: async () => ({ got: [] as string[] }),
    onSend: {
      // Turn 1: waits for "go" OR 1s, whichever first; the sleep wins and the turn completes.
      raceGo: async (_p: void, state, ctx) => {
        await ctx.step("a", () => 1);
        await ctx.step("b", () => 2);
        const r = await Promise.race([ctx.waitForSignal<string>("go"), ctx.sleep("1s").then(() => "slept")]);
        return { state: { got: [...state.got, `race:${r}`] } };
      },
      // Turn 2: waits for "go" for real.
      waitGo: async (_p: void, state, ctx) => {
        const v = await ctx.waitForSignal<string>("go");
        return { state: { got: [...state.got, `go:${v}`] } };
      },
    },
    onAsk: { got: async (_p: void, state) => ({ reply: state.got }) },
  });
  await using rt = await createRuntime({ definitions: [svc], clock, logLevel: "silent" });
  const ref = await rt.connect(svc, { id: "x" });
  await ref.send.raceGo();
  await eventually(async () => ((await ref.status()) === "waiting" ? true : undefined));
  clock.advance(1_000);
  await ref.send.waitGo();
  // Turn 2 suspends on its signal wait.
  await eventually(async () => {
    const i = await rt.inspect(ref.id);
    return i.run.status === "waiting" && i.queued.some((m) => m.name === "waitGo" && m.status === "active") ? true : undefined;
  });
  await rt.signal(ref.id, "go", "hello");
  expect(await ref.ask.got(undefined, { timeout: "2s" })).toEqual(["race:slept", "go:hello"]);
});
