/**
 * The worker pool through the embedded runtime (`createRuntime({ workers, project })`): user code
 * that blocks, exits or hangs its worker, while the runtime goes on. Real worker processes.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { createLogger, isProcessAlive, signalProcess } from "../../src/shared/index.ts";
import { fileLines, filePids } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "worker-flows.ts"), "utf8");
const project = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": '[worker]\nenv = { GREETING = "hello" }\npass_env = ["PASSED_THROUGH"]\n' });
const logger = createLogger("silent");
const opened: Runtime[] = [];
afterAll(async () => {
  for (const rt of opened) await rt.close();
});

async function open(options: { workers?: number; workerLeaseMs?: number; liveExecutions?: number } = {}) {
  const workspace = tempDir("vilano-workspace-");
  const rt = await createRuntime({ database: join(tempDir(), "runtime.sqlite"), workers: options.workers ?? 2, project, workspace, logger, ...options });
  opened.push(rt);
  // Complete lines only: a step's appendFileSync creates its file before it writes the line.
  return { rt, workspace, lines: (file: string) => fileLines(join(workspace, file)), pids: (file: string) => filePids(join(workspace, file)) };
}

const alive = isProcessAlive;

describe("worker pool: hard stop", () => {
  test("a timed step that blocks its worker alone is killed at the deadline, recorded as a forced timeout and retried", async () => {
    const { rt, lines } = await open({ workers: 1 });
    const spinner = await rt.start("spinOnce");
    const { pid } = (await spinner.result({ timeout: "10s" })) as { pid: number };
    const attempts = lines("spin-attempts.log").map((l) => l.split(" "));
    expect(attempts.map((a) => a[0])).toEqual(["1", "2"]);
    expect(Number(attempts[1]![1])).toBe(pid);
    expect(Number(attempts[0]![1])).not.toBe(pid);
    expect(alive(Number(attempts[0]![1]))).toBe(false);

    const inspection = await rt.inspect(spinner.id);
    expect(inspection.ops.find((op) => op.opKey === "step:spin:0")).toMatchObject({ status: "completed", attempt: 2, forcedTerminations: 1 });
    const failed = inspection.events.find((e) => e.type === "step_attempt_failed")!;
    expect(failed).toMatchObject({ opKey: "step:spin:0", attempt: 1, family: "timeout", forcedTermination: true, decision: "scheduled" });
    expect(inspection.events.filter((e) => e.type === "step_completed")).toHaveLength(1);
  }, 20_000);

  test("when other steps ran in the killed worker, nobody is charged; each goes on alone, and the blocker is then charged alone", async () => {
    const { rt, lines } = await open({ workers: 1 });
    const sharer = await rt.start("napStep", { ms: 1_500, tag: "sharer" });
    await eventually(() => (lines("nap-sharer.log").length === 1 ? true : undefined), 10_000, "the sharing run's step to start");
    const spinner = await rt.start("spinOnce");
    expect(await spinner.result({ timeout: "10s" })).toMatchObject({ pid: expect.any(Number) });
    // First kill: the spinner or the napping step could have blocked it — no attempt charged.
    // Alone on its own worker the spinner blocks again and is charged; its retry passes.
    expect(lines("spin-attempts.log").map((l) => l.split(" ")[0])).toEqual(["1", "1", "2"]);
    const spun = await rt.inspect(spinner.id);
    expect(spun.events.filter((e) => e.type === "step_attempt_failed")).toHaveLength(1);
    expect(spun.events.filter((e) => e.type === "activation_lost")).toHaveLength(2);

    // The run that shared the killed worker lost its activation, not an attempt: it ran its step again and completed once.
    expect(await sharer.result({ timeout: "10s" })).toMatchObject({ pid: expect.any(Number) });
    const shared = await rt.inspect(sharer.id);
    expect(shared.events.some((e) => e.type === "activation_lost")).toBe(true);
    expect(shared.events.some((e) => e.type === "step_attempt_failed")).toBe(false);
    expect(shared.events.filter((e) => e.type === "step_completed")).toHaveLength(1);
    expect(lines("nap-sharer.log")).toHaveLength(2);
  }, 20_000);

  test("a timed step that only awaits is not blamed when a step without a timeout blocks the worker", async () => {
    const { rt, lines } = await open({ workers: 1 });
    const polite = await rt.start("politeTimed", { ms: 300 });
    await eventually(() => (lines("polite.log").length === 1 ? true : undefined), 10_000, "the polite step to start");
    const hog = await rt.start("hog", { ms: 2_000 });
    expect(await polite.result({ timeout: "15s" })).toBe("done");
    expect(await hog.result({ timeout: "15s" })).toBe("fed");
    for (const id of [polite.id, hog.id]) expect((await rt.inspect(id)).events.some((e) => e.type === "step_attempt_failed")).toBe(false);
    // The hog ran again alone, where nothing timed shared its worker, and was left to finish.
    expect(lines("hog.log")).toHaveLength(2);
  }, 30_000);
});

describe("worker pool: crashes", () => {
  test("a step that exits its worker fails the run with worker_crashed after 3 attempts; other runs go on", async () => {
    const { rt, lines } = await open();
    const run = await rt.start("exits");
    const error = await run.result({ timeout: "15s" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ cause: { code: "worker_crashed", reason: "worker_crashed", details: { crashes: 3, exitCode: 3 } } });
    expect((error as { cause: { message: string } }).cause.message).toContain("exited with code 3");
    expect((error as { cause: { message: string } }).cause.message).toContain("about to exit with code 3");
    expect(lines("exit-attempts.log")).toHaveLength(3);
    const inspection = await rt.inspect(run.id);
    expect(inspection.events.filter((e) => e.type === "worker_crashed").map((e) => [e.crash, e.opKey])).toEqual([
      [1, "step:exit:0"],
      [2, "step:exit:0"],
      [3, "step:exit:0"],
    ]);
    // Per op, in the view inspect and explain use: the step never recorded anything, so it shows as interrupted.
    expect(inspection.ops.find((op) => op.opKey === "step:exit:0")).toMatchObject({ kind: "step", name: "exit", status: "interrupted", workerCrashes: 3 });
    expect(await (await rt.start("whoAmI")).result({ timeout: "10s" })).toMatchObject({ greeting: "hello" });
  }, 20_000);

  test("a service turn that exits its worker fails its message with worker_crashed and the instance goes on", async () => {
    const { rt } = await open();
    const ref = await rt.connect("crashy" as never, { id: "c1" } as never);
    const asks = ref.ask as unknown as Record<string, (p?: unknown, o?: unknown) => Promise<unknown>>;
    const failure = await asks.boom!(undefined, { timeout: "15s" }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ cause: { code: "worker_crashed", details: { exitCode: 4 } } });
    expect(await asks.count!(undefined, { timeout: "10s" })).toBe(0);
    expect(await asks.count!(undefined, { timeout: "10s" })).toBe(1);
  }, 20_000);
});

describe("worker pool: cancel", () => {
  // How soon (the cancel grace, 1 s, then the kill) is a figure for a benchmark, not a deadline here:
  // under a loaded machine the kill and reap alone can take most of a second.
  test("cancelling a run whose step blocks its worker (no timeout) kills that worker once the cancel grace is over", async () => {
    const { rt, pids } = await open();
    const run = await rt.start("spinForever");
    const spinning = await eventually(() => pids("spin-forever.log")[0], 10_000, "the spinning step to start");
    expect((await rt.cancel(run.id)).status).toBe("cancelled");
    await eventually(() => (alive(spinning) ? undefined : true), 10_000, "the blocked worker to be killed");
    expect(await rt.status(run.id)).toBe("cancelled");
    expect(await (await rt.start("whoAmI")).result({ timeout: "5s" })).toMatchObject({ greeting: "hello" });
  }, 15_000);
});

describe("worker pool: leases", () => {
  test("a stopped worker loses its lease; the run completes elsewhere and what the worker reports after SIGCONT is refused", async () => {
    const { rt, pids } = await open({ workers: 2, workerLeaseMs: 400 });
    const run = await rt.start("napStep", { ms: 1_000, tag: "stop" });
    // The worker's pid, once its line is complete (an empty file read as "" would be pid 0: the whole group).
    const stopped = await eventually(() => pids("nap-stop.log")[0], 10_000, "the step to start");
    expect(signalProcess(stopped, "SIGSTOP")).toBe(true);
    let output: { pid: number };
    try {
      output = (await run.result({ timeout: "20s" })) as { pid: number };
    } finally {
      signalProcess(stopped, "SIGCONT");
    }
    expect(output.pid).not.toBe(stopped);
    // Awake again, the worker finishes its step and reports it under its old fence; then it is retired.
    await eventually(() => (alive(stopped) ? undefined : true), 10_000, "the expired worker to be retired");
    const inspection = await rt.inspect(run.id);
    expect(inspection.ops.find((op) => op.opKey === "step:nap:0")).toMatchObject({ status: "completed", result: output.pid });
    expect(inspection.events.filter((e) => e.type === "step_completed")).toHaveLength(1);
    expect(inspection.events.find((e) => e.type === "activation_lost")).toMatchObject({ why: expect.stringContaining("lease expired") });
  }, 20_000);
});

describe("worker pool: isolation", () => {
  test("user code runs in another process, in the workspace, with a clean environment plus the project's variables", async () => {
    process.env.PASSED_THROUGH = "yes";
    process.env.VILANO_SECRET_FOR_TEST = "must not leak";
    const { rt, workspace } = await open();
    const who = (await (await rt.start("whoAmI")).result({ timeout: "10s" })) as Record<string, unknown>;
    delete process.env.VILANO_SECRET_FOR_TEST;
    expect(who.pid).not.toBe(process.pid);
    expect(who.cwd).toBe(workspace);
    expect(who.vilanoVariables).toEqual([]);
    expect(who.greeting).toBe("hello");
    expect(who.passed).toBe("yes");
  }, 15_000);
});

describe("worker pool: code that goes on after it looked blocked", () => {
  test("is still heard through the pool while its lease stands, like in-process", async () => {
    const { rt } = await open({ workers: 1 });
    const run = await rt.start("lateFlow");
    expect(await run.result({ timeout: "10s" })).toBe(3);
    const types = (await rt.inspect(run.id)).events.map((e) => e.type);
    expect(types).toContain("run_waiting");
    expect(types.slice(-2)).toEqual(["step_completed", "run_completed"]);
  }, 15_000);
});

describe("worker pool: module state between activations", () => {
  test("a run's next activation goes back to the worker that ran it last, while that worker is live", async () => {
    const { rt } = await open({ workers: 2 });
    const handles = await Promise.all(Array.from({ length: 12 }, () => rt.start("moduleState")));
    const outputs = (await Promise.all(handles.map((h) => h.result({ timeout: "10s" })))) as { before: { pid: number }; after: { pid: number } }[];
    for (const output of outputs) expect(output.after.pid).toBe(output.before.pid);
    // …and the work was spread over both workers.
    expect(new Set(outputs.map((o) => o.before.pid)).size).toBe(2);
  }, 20_000);

  test("pooled workers keep module state between activations; isolation = \"fresh\" gives each activation a new process", async () => {
    // Every activation runs the code from the top here (no live executions), in the same process.
    const { rt } = await open({ workers: 1, liveExecutions: 0 });
    const pooled = (await (await rt.start("moduleState")).result({ timeout: "10s" })) as { before: { pid: number; activations: number }; after: { pid: number; activations: number } };
    expect(pooled.after.pid).toBe(pooled.before.pid);
    expect(pooled.after.activations).toBe(pooled.before.activations + 1);

    const freshProject = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": '[worker]\nisolation = "fresh"\n' });
    const fresh = await createRuntime({ database: join(tempDir(), "runtime.sqlite"), workers: 1, project: freshProject, workspace: tempDir("vilano-workspace-"), logger });
    opened.push(fresh);
    const isolated = (await (await fresh.start("moduleState")).result({ timeout: "10s" })) as typeof pooled;
    expect(isolated.after.pid).not.toBe(isolated.before.pid);
    expect(isolated).toMatchObject({ before: { activations: 1 }, after: { activations: 1 } });
  }, 20_000);
});

describe("worker pool: service keys", () => {
  test("a key input seen before costs no worker round trip, and an instance that exists no commit", async () => {
    const { rt, lines } = await open({ workers: 1 });
    const first = await rt.connect("keyed" as never, { id: "a" } as never);
    const batches = rt.stats.batches;
    for (let i = 0; i < 3; i++) expect((await rt.connect("keyed" as never, { id: "a" } as never)).id).toBe(first.id);
    expect(rt.stats.batches).toBe(batches);
    expect(lines("key-calls.log")).toEqual(["a"]);
    await rt.connect("keyed" as never, { id: "b" } as never);
    expect(lines("key-calls.log")).toEqual(["a", "b"]);
  }, 20_000);
});

describe("worker pool: importing the project", () => {
  test.each([
    ["never settles", "await new Promise(() => {});", "did not finish within"],
    ["exits", "process.exit(7);", "exited with code 7"],
    ["throws", 'throw new Error("bad top level");', "bad top level"],
  ])("top-level code that %s fails createRuntime with a clear error", async (_what, topLevel, message) => {
    const bad = writeProject({
      "src/bad.ts": `import { workflow } from "@vilano/runtime";\n${topLevel}\nexport const w = workflow({ name: "w", run: async () => 1 });\n`,
    });
    process.env.VILANO_IMPORT_TIMEOUT = "700ms";
    const started = Date.now();
    try {
      const error = await createRuntime({ workers: 1, project: bad, logger }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "validation_failed" });
      expect(String((error as Error).message)).toContain(message);
      // Fails rather than hangs: a generous bound (quiet, about 1 s), the exact limit is the message's.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      delete process.env.VILANO_IMPORT_TIMEOUT;
    }
  }, 30_000);
});
