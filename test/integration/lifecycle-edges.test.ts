import { describe, expect, test } from "bun:test";
import { createRuntime } from "../helpers/stores.ts";
import { workflow } from "../../src/sdk/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

describe("lifecycle", () => {
  test("a ctx.sleep inside a step is refused with a clear error, not recorded as a failed step carrying the internal suspension", async () => {
    const wf = workflow({
      name: "nested",
      run: async (_: void, ctx) => ctx.step("outer", async () => (await ctx.sleep(1), 1)),
    });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    const err = await run.result({ timeout: "2s" }).catch((e: { cause?: { name?: string; message?: string } }) => e.cause);
    await rt.close();
    expect((err as { message?: string } | undefined)?.message).not.toContain("internal control flow");
  });

  test("handle.status() after close() says the runtime is closed", async () => {
    const wf = workflow({ name: "s", run: async () => 1 });
    await using rt = await createRuntime({ definitions: [wf], logLevel: "silent" });
    const run = await rt.start(wf);
    await run.result();
    await rt.close();
    await expect(run.status()).rejects.toMatchObject({ code: "runtime_closed" });
  });

  test("a cancelled run whose step ignores its signal does not keep holding an activation slot", async () => {
    let started = false;
    const stubborn = workflow({
      name: "stubborn",
      run: async (_: void, ctx) => ctx.step("ignore-abort", async () => ((started = true), await Bun.sleep(1_500), 1)),
    });
    const quick = workflow({ name: "quick", run: async () => "quick" });
    await using rt = await createRuntime({ definitions: [stubborn, quick], logLevel: "silent", maxConcurrentActivations: 1 });
    const a = await rt.start(stubborn);
    await eventually(() => (started ? true : undefined), 2_000, "the stubborn step to start");
    await rt.cancel(a.id);
    const b = await rt.start(quick);
    const outcome = await b.result({ timeout: "500ms" }).catch((e: { code?: string }) => e.code);
    await rt.close();
    expect(outcome).toBe("quick");
  });
});

describe("lifecycle: close()", () => {
  test("a second close() waits for the first, so the file can be reopened once it resolves", async () => {
    const { tempDatabase } = await import("../helpers/stores.ts");
    const database = tempDatabase();
    const wf = workflow({ name: "c", run: async () => 1 });
    await using rt = await createRuntime({ database, definitions: [wf], logLevel: "silent" });
    await rt.start(wf); // leaves a commit in flight for close() to drain
    const first = rt.close();
    await rt.close();
    const reopened = await createRuntime({ database, definitions: [wf], logLevel: "silent" }).then(
      (r) => r,
      (e: { code?: string; message?: string }) => e,
    );
    await first;
    if ("close" in reopened) await reopened.close();
    expect("close" in reopened ? "opened" : (reopened as { message?: string }).message).toBe("opened");
  });
});
