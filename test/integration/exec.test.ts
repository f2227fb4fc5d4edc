/**
 * `ctx.exec`: subprocesses as durable ops, in this process and through worker processes — argv
 * only, captures capped, every failure family recorded and retried as configured, trees killed.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, signalProcess } from "../../src/shared/index.ts";
import { fileLines, filePids } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { runtimeModes } from "../helpers/runtime-modes.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "exec-flows.ts"), "utf8");
const project = writeProject({ "src/flows.ts": FLOWS });
const modes = runtimeModes(project, 1);

describe.each(modes)("ctx.exec (%s)", (_mode, make) => {
  async function open() {
    const workspace = tempDir("vilano-workspace-");
    const rt = await make({ workspace });
    const run = async (spec: Record<string, unknown>) => {
      const handle = await rt.start("execOnce", spec as never);
      const outcome: { ok: boolean; output?: unknown; error?: Record<string, unknown> } = await handle.result({ timeout: "20s" }).then(
        (output) => ({ ok: true, output }),
        (error: { cause: Record<string, unknown> }) => ({ ok: false, error: error.cause }),
      );
      const inspection = await rt.inspect(handle.id);
      // The op's own failure body (the run's error wraps it as ExecFailedError).
      return { ...outcome, inspection, id: handle.id, opError: inspection.ops[0]?.error as Record<string, unknown> | undefined };
    };
    return { rt, workspace, run };
  }

  test("arguments are argv, never a shell: $(id) and ; rm -rf x stay literal", async () => {
    const { workspace, run } = await open();
    writeFileSync(join(workspace, "x"), "still here");
    const { output } = await run({ name: "echo", cmd: "printf", args: ["%s|%s", "$(id)", "; rm -rf x"] });
    expect(output).toMatchObject({ exitCode: 0, signalCode: null, stdout: "$(id)|; rm -rf x", stderr: "" });
    expect(existsSync(join(workspace, "x"))).toBe(true);
  });

  test("a timeout kills the whole tree the subprocess started, grandchildren included", async () => {
    const { workspace, run } = await open();
    const started = Date.now();
    // The timeout leaves the shell ample time to note both pids, even on a loaded machine.
    const { ok, error, opError } = await run({ name: "tree", cmd: "sh", args: ["-c", "sleep 30 & echo $! > grandchild.pid; echo $$ > child.pid; wait"], timeout: "1500ms" });
    expect(ok).toBe(false);
    expect(error).toMatchObject({ name: "ExecFailedError", code: "exec_failed", family: "timeout", details: { execName: "tree" } });
    expect(opError).toMatchObject({ family: "timeout", code: "timeout", message: expect.stringContaining("its process tree was killed") });
    // Killed at the timeout, not when the tree's `sleep 30` ends: quiet, the timeout and a little more.
    expect(Date.now() - started).toBeLessThan(20_000);
    for (const file of ["child.pid", "grandchild.pid"]) {
      const [pid] = filePids(join(workspace, file));
      expect(pid).toBeGreaterThan(1);
      await eventually(() => (isProcessAlive(pid!) ? undefined : true), 10_000, `${file} to be dead`);
    }
  });

  test("a grandchild that left the process group does not keep the op waiting", async () => {
    const { workspace, run } = await open();
    // The escapee (its own session, so the timeout's kill misses it) holds the output pipes open for 120 s.
    const escapee = "setsid sh -c 'echo $$ > escapee.pid; exec sleep 120' & sleep 30";
    const { opError } = await run({ name: "escapee", cmd: "sh", args: ["-c", escapee], timeout: "1500ms" });
    const pid = await eventually(() => filePids(join(workspace, "escapee.pid"))[0], 10_000, "the escapee's pid");
    try {
      expect(opError).toMatchObject({ family: "timeout" });
      // The op ended while the escapee still lives: it did not wait for the pipes to close.
      expect(isProcessAlive(pid)).toBe(true);
    } finally {
      signalProcess(pid, "SIGKILL");
    }
  });

  test("a working directory that does not exist is named in the failure", async () => {
    const { run } = await open();
    const { opError } = await run({ name: "nowhere", cmd: "true", cwd: "nope" });
    expect(opError?.family).toBe("process_spawn");
    expect(String(opError?.message)).toMatch(/its working directory \/.+\/nope does not exist/);
  });

  test("captures are capped and say how much was cut", async () => {
    const { run } = await open();
    const { output } = (await run({ name: "lots", cmd: "seq", args: ["1", "100000"], capture: { maxBytes: 1_000 } })) as { output: { stdout: string } };
    const full = Array.from({ length: 100_000 }, (_, i) => `${i + 1}\n`).join("");
    expect(output.stdout.startsWith(full.slice(0, 1_000))).toBe(true);
    expect(output.stdout).toContain(`[vilano: output truncated, ${full.length - 1_000} more bytes not kept]`);
  });

  test("each failure family is recorded and retried as configured", async () => {
    const { run } = await open();
    const exits = await run({ name: "exit3", cmd: "sh", args: ["-c", "echo broken >&2; exit 3"], retry: { retries: 2, backoff: "0ms", on: ["process_exit"] } });
    expect(exits.opError).toMatchObject({ family: "process_exit", code: "process_exit", message: expect.stringContaining("exited with code 3: broken"), details: { exitCode: 3 } });
    expect(exits.inspection.events.filter((e) => e.type === "exec_attempt_failed").map((e) => e.decision)).toEqual(["scheduled", "scheduled", "attempts_exhausted"]);
    expect(exits.inspection.ops[0]).toMatchObject({ kind: "exec", name: "exit3", status: "failed", attempt: 3 });

    const spawn = await run({ name: "missing", cmd: "/no/such/program", retry: { retries: 1, backoff: "0ms", on: ["process_spawn"] } });
    expect(spawn.opError).toMatchObject({ family: "process_spawn", code: "process_spawn" });
    expect(spawn.inspection.events.filter((e) => e.type === "exec_attempt_failed").map((e) => e.decision)).toEqual(["scheduled", "attempts_exhausted"]);

    const slow = await run({ name: "slow", cmd: "sleep", args: ["5"], timeout: "150ms", retry: { retries: 1, backoff: "0ms", on: ["timeout"] } });
    expect(slow.opError).toMatchObject({ family: "timeout" });
    expect(slow.inspection.events.filter((e) => e.type === "exec_attempt_failed")).toHaveLength(2);

    const notSelected = await run({ name: "exit4", cmd: "sh", args: ["-c", "exit 4"], retry: { retries: 3, on: ["timeout"] } });
    expect(notSelected.inspection.events.filter((e) => e.type === "exec_attempt_failed").map((e) => e.decision)).toEqual(["family_not_selected"]);
    expect(notSelected.inspection.events.some((e) => e.type === "exec_failed")).toBe(true);
  }, 30_000);

  test("env values are given to the process but only their names are recorded; cwd may not leave the workspace", async () => {
    const { run } = await open();
    const { output, inspection } = (await run({ name: "secret", cmd: "sh", args: ["-c", 'test "$(printf %s "$SECRET_TOKEN" | wc -c)" -eq 7 && echo set'], env: { SECRET_TOKEN: "hunter2" } })) as {
      output: { stdout: string };
      inspection: { ops: { meta?: unknown }[]; events: unknown[] };
    };
    expect(output.stdout).toBe("set\n");
    expect(inspection.ops[0]!.meta).toMatchObject({ cmd: "sh", cwd: ".", env: ["SECRET_TOKEN"] });
    // (The value is in this test's run input only because the test passes the spec as input.)
    expect(JSON.stringify({ ops: inspection.ops, events: inspection.events })).not.toContain("hunter2");

    const escape = await run({ name: "escape", cmd: "true", cwd: "../" });
    expect(escape.error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("leaves the workspace") });
  });

  test("declared artifacts are read after exit; stdin reaches the process", async () => {
    const { run } = await open();
    const { output } = (await run({ name: "art", cmd: "sh", args: ["-c", "cat > out.txt"], stdin: "hello artifact", capture: { artifacts: ["out.txt", "missing.txt"] } })) as {
      output: { artifacts: unknown[] };
    };
    expect(output.artifacts).toEqual([{ path: "out.txt", bytes: 14, truncated: false, stored: expect.stringMatching(/^captures\/.+\/artifacts\/out\.txt$/) }]);
  });

  test("a parsed result is recorded once; a replay does not run the process again", async () => {
    const { rt, workspace } = await open();
    const handle = await rt.start("execParsed");
    expect(await handle.result({ timeout: "10s" })).toEqual({ answer: 42 });
    expect(fileLines(join(workspace, "parsed-runs.log"))).toEqual(["ran"]);
    expect((await rt.inspect(handle.id)).events.filter((e) => e.type === "run_resumed")).toHaveLength(1);
  });

  test("cancelling the run kills its subprocess", async () => {
    const { rt, workspace } = await open();
    const handle = await rt.start("execOnce", { name: "long", cmd: "sh", args: ["-c", "echo $$ > long.pid; exec sleep 30"] } as never);
    const pidFile = join(workspace, "long.pid");
    const pid = await eventually(() => filePids(pidFile)[0], 10_000, "the subprocess to start");
    await rt.cancel(handle.id);
    await eventually(() => (isProcessAlive(pid) ? undefined : true), 10_000, "the subprocess to be killed");
    expect(await rt.status(handle.id)).toBe("cancelled");
  });
});
