/**
 * The cap on recorded values (VILANO_MAX_VALUE_BYTES, here 4 KiB): results, outputs, replies,
 * inputs and payloads over it are refused with an error naming the op, and nothing of them is stored.
 */
import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { service, workflow } from "../../src/sdk/index.ts";

const BIG = "x".repeat(10_000);
const bigStep = workflow({ name: "bigStep", run: async (_input: void, ctx) => ctx.step("fetch", () => BIG) });
const bigOutput = workflow({ name: "bigOutput", run: async () => BIG });
const echo = service({
  name: "echo",
  key: () => "one",
  onAsk: { big: async () => ({ reply: BIG }) },
});
const asksBig = workflow({
  name: "asksBig",
  run: async (_input: void, ctx) =>
    (await ctx.connect(echo, {})).ask.big().then(
      () => "replied",
      (error: { cause: { code?: string; message: string } }) => error.cause,
    ),
});
const waits = workflow({ name: "waits", run: async (_input: void, ctx) => ctx.waitForSignal("go") });

async function open() {
  return createRuntime({ definitions: [bigStep, bigOutput, echo, asksBig, waits], logLevel: "silent", maxValueBytes: 4096 });
}

describe("the value cap", () => {
  test("a step result over the cap fails that step's attempt (not retried) with an error naming the op, and the result is not stored", async () => {
    await using rt = await open();
    const run = await rt.start(bigStep);
    const error = await run.result({ timeout: "5s" }).then(() => null, (e: { cause: { code?: string; message: string } }) => e.cause);
    expect(error).toMatchObject({
      code: "step_failed",
      message: 'step "fetch" failed: the result of step "fetch" (op step:fetch:0) is 10002 bytes, more than the limit of 4096 bytes (VILANO_MAX_VALUE_BYTES)',
      retryable: false,
    });
    const ops = (await rt.inspect(run.id)).ops;
    expect(ops).toMatchObject([{ opKey: "step:fetch:0", status: "failed", attempt: 1, error: { code: "value_too_large", retryable: false } }]);
    expect(ops[0]).not.toHaveProperty("result");
  });

  test("an output over the cap fails the run; a reply over the cap fails the message, and the asker hears why", async () => {
    await using rt = await open();
    const out = await rt.start(bigOutput);
    expect(await out.result({ timeout: "5s" }).then(() => null, (e: { cause: { code?: string } }) => e.cause.code)).toBe("value_too_large");
    expect((await rt.inspect(out.id)).run.output).toBeUndefined();
    expect(await (await rt.start(asksBig)).result({ timeout: "5s" })).toMatchObject({ code: "value_too_large", message: expect.stringContaining('the reply of a turn of service "echo"') });
  });

  test("an input or a signal payload over the cap is refused before anything is written", async () => {
    await using rt = await open();
    await expect(rt.start(bigOutput, BIG as never)).rejects.toMatchObject({ code: "value_too_large" });
    expect(await rt.list()).toEqual([]);
    const run = await rt.start(waits);
    await expect(rt.signal(run.id, "go", BIG)).rejects.toMatchObject({ code: "value_too_large", message: expect.stringContaining('the payload of signal "go"') });
    expect((await rt.inspect(run.id)).signals).toEqual([]);
  });

  test("a ctx.reject of megabytes reaches the asker cut to the sizes failures are kept at", async () => {
    const huge = "r".repeat(4 * 1024 * 1024);
    const gate = service({
      name: "gate",
      key: () => "one",
      onAsk: { enter: async (_p: void, _state, ctx) => ctx.reject({ message: huge, reason: huge, details: { huge } }) },
    });
    await using rt = await createRuntime({ definitions: [gate], logLevel: "silent", maxValueBytes: 4096 });
    const error = (await (await rt.connect(gate, {})).ask.enter().catch((e: unknown) => e)) as { message: string; cause: { reason: string; details: unknown } };
    expect(error.message).toEndWith(`… [${huge.length - 8192} more characters not kept]`);
    expect(error.cause.reason).toEndWith(`… [${huge.length - 256} more characters not kept]`);
    expect(JSON.stringify(error.cause).length).toBeLessThan(20 * 1024);
  });
});

