import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service } from "../../src/sdk/index.ts";
import { createManualClock } from "../../src/shared/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

test("a resumed turn replays a step whose explicit key has a character beyond U+FFFF", async () => {
  const clock = createManualClock();
  let calls = 0;
  const svc = service({
    name: "emoji",
    key: (i: { id: string }) => i.id,
    init: async () => ({ n: 0 }),
    onSend: {
      go: async (_p: void, state, ctx) => {
        await ctx.step("side-effect", () => ++calls, { key: "\u{1F600}-charge" });
        await ctx.sleep("1s");
        return { state: { n: state.n + 1 } };
      },
    },
    onAsk: { n: async (_p: void, state) => ({ reply: state.n }) },
  });
  await using rt = await createRuntime({ definitions: [svc], clock, logLevel: "silent" });
  const ref = await rt.connect(svc, { id: "x" });
  await ref.send.go();
  await eventually(async () => ((await ref.status()) === "waiting" ? true : undefined));
  clock.advance(1_000);
  expect(await ref.ask.n(undefined, { timeout: "2s" })).toBe(1);
  expect(calls).toBe(1);
});
