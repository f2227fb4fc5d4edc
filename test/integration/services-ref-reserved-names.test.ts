import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";

const svc = service({
  name: "inspectable",
  key: (i: { id: string }) => i.id,
  init: async () => ({ notes: ["a"] }),
  onAsk: {
    // A natural handler name that the ref proxy reserves for object inspectors.
    inspect: async (_p: void, state) => ({ reply: state.notes }),
  },
});

test("an ask handler named `inspect` can be called through a script ref", async () => {
  await using rt = await createRuntime({ definitions: [svc], logLevel: "silent" });
  const ref = await rt.connect(svc, { id: "x" });
  expect(await ref.ask.inspect()).toEqual(["a"]);
});

test("an ask handler named `inspect` can be called through ctx.connect", async () => {
  const wf = workflow({
    name: "inspector",
    run: async (_i: void, ctx) => (await ctx.connect(svc, { id: "y" })).ask.inspect(),
  });
  await using rt = await createRuntime({ definitions: [svc, wf], logLevel: "silent" });
  expect(await (await rt.start(wf)).result({ timeout: "2s" })).toEqual(["a"]);
});
