import { expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";
import { gzip, gzipSync } from "node:zlib";
import { promisify } from "node:util";

// Pure, deterministic computation that resolves on a later event-loop turn (zlib on the threadpool);
// the short timer makes "later" certain, as a large input or a busy threadpool would.
const compress = async (s: string) => {
  const length = (await promisify(gzip)(s)).length;
  await new Promise((resolve) => setTimeout(resolve, 5));
  return length;
};

test("a workflow that awaits async non-durable work after a race with a wait still completes", async () => {
  const wf = workflow({
    name: "raceThenHash",
    run: async (_i: void, ctx) => {
      // The classic "work unless cancelled" race: the step wins, the signal wait is abandoned.
      const v = await Promise.race([ctx.waitForSignal<string>("cancel"), ctx.step("work", () => "done")]);
      return { v, bytes: await compress(v) };
    },
  });
  await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
  const run = await rt.start(wf);
  expect(await run.result({ timeout: "2s" })).toEqual({ v: "done", bytes: gzipSync("done").length });
});

test("a service turn that awaits async non-durable work after a race with a wait completes, and later mail is handled", async () => {
  const svc = service({
    name: "hasher",
    key: (i: { id: string }) => i.id,
    init: async () => ({ n: 0 }),
    onAsk: {
      work: async (p: { s: string }, state, ctx) => {
        const v = await Promise.race([ctx.waitForSignal<string>("cancel"), ctx.step("work", () => p.s)]);
        return { state: { n: state.n + 1 }, reply: await compress(v) };
      },
    },
  });
  await using rt = await createRuntime({ definitions: [svc], logLevel: "silent" });
  const ref = await rt.connect(svc, { id: "x" });
  expect(await ref.ask.work({ s: "a" }, { timeout: "2s" })).toBe(gzipSync("a").length);
  expect(await ref.status()).toBe("idle");
});
