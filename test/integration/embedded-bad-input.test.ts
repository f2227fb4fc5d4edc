import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";

const noop = workflow({ name: "noop", run: async () => "ok" });
const other = workflow({ name: "other", run: async () => "other" });

async function runtime() {
  return createRuntime({ definitions: [noop, other], logLevel: "silent" });
}

describe("embedded runtime: bad input", () => {
  test("starting an unknown workflow names it and the registered ones, and writes nothing", async () => {
    const rt = await runtime();
    await expect(rt.start("nope")).rejects.toMatchObject({
      code: "unknown_workflow",
      message: 'workflow "nope" is not registered with this runtime (registered: noop, other)',
    });
    const stranger = workflow({ name: "stranger", run: async () => 1 });
    await expect(rt.start(stranger)).rejects.toMatchObject({ code: "unknown_workflow" });
    expect(await rt.list()).toEqual([]);
    await rt.close();
  });

  test("an input that is not JSON-serialisable is refused with its path, and nothing is written", async () => {
    const rt = await runtime();
    await expect(rt.start(noop, { when: new Date(0) } as never)).rejects.toMatchObject({
      code: "not_serializable",
      message: expect.stringContaining("at $.when, a Date instance is not plain JSON"),
    });
    await expect(rt.start(noop, { n: 10n } as never)).rejects.toMatchObject({ code: "not_serializable" });
    expect(await rt.list()).toEqual([]);
    await rt.close();
  });

  test("a run id already used by a different workflow is a conflict and changes nothing", async () => {
    const rt = await runtime();
    const first = await rt.start(noop, undefined, { id: "order-42" });
    await first.result();
    await expect(rt.start(other, undefined, { id: "order-42" })).rejects.toMatchObject({
      code: "conflict",
      message: 'run id "order-42" is already used by workflow "noop", not workflow "other"',
    });
    const runs = await rt.list();
    expect(runs.map((r) => [r.id, r.name, r.status])).toEqual([["order-42", "noop", "completed"]]);
    await rt.close();
  });

  test("an invalid run id is refused", async () => {
    const rt = await runtime();
    await expect(rt.start(noop, undefined, { id: "has spaces" })).rejects.toMatchObject({ code: "validation_failed" });
    expect(await rt.list()).toEqual([]);
    await rt.close();
  });

  test("an invalid duration fails the run with a message showing the value, and records no timer", async () => {
    const wf = workflow({ name: "badSleep", run: async (_: void, ctx) => ctx.sleep("5x") });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { cause: { code: string; message: string } };
    expect(error.cause.code).toBe("validation_failed");
    expect(error.cause.message).toContain('invalid sleep duration "5x"');
    expect((await rt.inspect(run.id)).ops).toEqual([]);
  });

  test("a step result that is not JSON-serialisable fails the step for good and stores no result", async () => {
    let calls = 0;
    const wf = workflow({
      name: "badResult",
      run: async (_: void, ctx) =>
        ctx.step("makeFn", () => (calls++, { callback: () => 1 }), { retry: { retries: 3, backoff: "1ms" } }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { cause: { code: string; message: string } };
    expect(error.cause.code).toBe("step_failed");
    expect(error.cause.message).toContain('the result of step "makeFn" is not JSON-serialisable: at $.callback, a function is not JSON');
    expect(calls).toBe(1);
    const { ops } = await rt.inspect(run.id);
    expect(ops).toEqual([expect.objectContaining({ status: "failed", error: expect.objectContaining({ code: "not_serializable" }) })]);
    expect(ops[0]!.result).toBeUndefined();
  });

  test("definitions that are not workflows, or share a name, are refused at creation", async () => {
    await expect(createRuntime({ definitions: [{ kind: "workflow", name: "x" }] })).rejects.toMatchObject({ code: "validation_failed" });
    await expect(createRuntime({ definitions: [noop, noop] })).rejects.toMatchObject({ code: "conflict" });
  });

  test("an invalid retry policy fails the run with a message naming the field", async () => {
    const wf = workflow({
      name: "badRetry",
      run: async (_: void, ctx) => ctx.step("s", () => 1, { retry: { retries: -1 } }),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const error = (await run.result().catch((e: unknown) => e)) as { cause: { message: string } };
    expect(error.cause.message).toBe('ctx.step("s"): invalid retry policy: retries must be a whole number >= 0, got -1');
  });
});
