/**
 * The daemon of the built executable runs user code in its worker pool: code that blocks, exits or
 * hangs never takes the daemon down, and user code sees nothing of the daemon.
 *
 * How fast it all happens is `bun run bench daemon_beside_blocked_worker`'s to say (answers, timer
 * lateness, cancel → worker replaced); a time bound here is generous, at least 10× what a quiet
 * machine takes, so that a loaded one does not fail it.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines, filePids } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "worker-flows.ts"), "utf8");

function daemonWithFlows(env: Record<string, string> = {}) {
  const d = testDaemon({ VILANO_WORKERS: "2", ...env });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "flows").exitCode).toBe(0);
  d.pid();
  // Step code's relative files land in the project's shared folder, its pooled workers' working directory.
  // Complete lines only: a step's appendFileSync creates its file before it writes the line.
  const workspaceLines = (file: string) => fileLines(join(d.workspaces, "flows", "shared", file));
  const workspacePids = (file: string) => filePids(join(d.workspaces, "flows", "shared", file));
  const start = (workflow: string, input?: unknown) =>
    d.json<{ run: { id: string } }>("run", "start", `flows/${workflow}`, ...(input === undefined ? [] : ["--input", JSON.stringify(input)])).run.id;
  const result = (id: string) => d.json<{ ok: boolean; run: { status: string; output?: unknown; error?: Record<string, unknown> } }>("run", "result", id, "--wait", "--timeout", "15s").run;
  const events = (id: string) => d.json<{ events: { type: string; [k: string]: unknown }[] }>("run", "replay", id).events;
  return { ...d, workspaceLines, workspacePids, start, result, events };
}

/** The daemon's children in worker mode (from /proc: the kernel's list of each thread's children). */
function workerChildren(daemon: number): number[] {
  const tasks = readdirSync(`/proc/${daemon}/task`);
  const children = tasks.flatMap((task) => readFileSync(`/proc/${daemon}/task/${task}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number));
  return children.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes("__worker");
    } catch {
      return false;
    }
  });
}

async function timed<T>(work: () => Promise<T> | T): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

describe("daemon worker pool (built executable)", () => {
  test("a blocking timed step is hard-stopped and retried; meanwhile the daemon answers, timers fire on time, and a run that shared the killed worker completes", async () => {
    const d = daemonWithFlows();
    // Two napping runs occupy both workers; the spinner then shares a worker with the first.
    const sharer = d.start("napStep", { ms: 1_500, tag: "a" });
    await eventually(() => (d.workspaceLines("nap-a.log").length === 1 ? true : undefined), 10_000, "the first nap to start");
    const other = d.start("napStep", { ms: 1_500, tag: "b" });
    await eventually(() => (d.workspaceLines("nap-b.log").length === 1 ? true : undefined), 10_000, "the second nap to start");
    const spinner = d.start("spinOnce");
    await eventually(() => (d.workspaceLines("spin-attempts.log").length === 1 ? true : undefined), 10_000, "the spin to start");
    const late = d.start("lateness", { ms: 300 });

    // While a worker spins, the daemon itself answers (quiet: a few ms, and about 100 ms for the CLI process).
    const [health, healthMs] = await timed(() => fetch(`http://127.0.0.1:${d.port}/health`));
    expect(health.ok).toBe(true);
    expect(healthMs).toBeLessThan(2_000);
    const [list, listMs] = await timed(() => d.cli("run", "list", "--json"));
    expect(list.exitCode).toBe(0);
    expect(listMs).toBeLessThan(2_000);

    expect(d.result(spinner)).toMatchObject({ status: "completed", output: { pid: expect.any(Number) } });
    const failed = d.events(spinner).find((e) => e.type === "step_attempt_failed");
    expect(failed).toMatchObject({ family: "timeout", forcedTermination: true, decision: "scheduled" });
    const attempts = d.workspaceLines("spin-attempts.log").map((l) => l.split(" "));
    expect(attempts.map((a) => a[0])).toEqual(["1", "1", "2"]);
    const pids = attempts.map((a) => Number(a[1]));
    expect(new Set(pids).size).toBe(3);
    for (const pid of pids.slice(0, 2)) expect(isAlive(pid)).toBe(false);

    const lateness = d.result(late);
    expect(lateness.status).toBe("completed");
    // Quiet: a few ms late; a timer held up until the hard stop would be hundreds.
    expect(lateness.output as number).toBeLessThan(1_000);

    for (const id of [sharer, other]) {
      expect(d.result(id).status).toBe("completed");
      expect(d.events(id).filter((e) => e.type === "step_completed")).toHaveLength(1);
    }
    expect(d.events(sharer).some((e) => e.type === "activation_lost")).toBe(true);
    const status = d.json<{ workers: { stats: { hardStops: number } } }>("daemon", "status");
    // Two: the first kill could not tell the spinner from the napping step beside it (nobody was
    // charged); alone on a worker of its own, the spinner was stopped and charged.
    expect(status.workers.stats.hardStops).toBe(2);
    expect(d.cli("run", "inspect", spinner).stdout).toMatch(/step:spin:0 +completed {2}attempt 2 {2}1 hard stop/);
    expect(d.cli("run", "explain", spinner).stdout).toContain('step "spin" blocked its worker past its timeout 1 time(s)');
  }, 30_000);

  test("a step that exits its worker fails with worker_crashed after 3 attempts; the daemon serves on, and after a restart the run is still failed and never runs again", async () => {
    const d = daemonWithFlows();
    const run = d.start("exits");
    const failed = d.result(run);
    expect(failed).toMatchObject({ status: "failed", error: { code: "worker_crashed", details: { crashes: 3, exitCode: 3 } } });
    expect(d.workspaceLines("exit-attempts.log")).toHaveLength(3);
    expect(d.result(d.start("whoAmI")).status).toBe("completed");
    const log = d.json<{ lines: string[] }>("daemon", "logs", "--lines", "200").lines.join("\n");
    expect(log).toContain(`run ${run} failed for good`);
    expect(d.cli("run", "inspect", run).stdout).toMatch(/step:exit:0 +interrupted {2}attempt 3 {2}3 worker crashes/);
    expect(d.cli("run", "explain", run).stdout).toContain('step "exit" ended its worker process 3 time(s)');

    const before = d.pid();
    expect(d.json<{ stopped: boolean }>("daemon", "stop")).toMatchObject({ stopped: true, pid: before });
    expect(isAlive(before)).toBe(false);
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    expect(d.pid()).not.toBe(before);
    // Once a later run has gone through the restarted daemon, recovery is long over.
    expect(d.result(d.start("whoAmI")).status).toBe("completed");
    expect(d.json<{ run: { status: string } }>("run", "inspect", run).run.status).toBe("failed");
    expect(d.workspaceLines("exit-attempts.log")).toHaveLength(3);
  }, 30_000);

  test("a worker blocked for good leaves the daemon answering; cancelling its run kills and replaces that worker once the cancel grace is over", async () => {
    const d = daemonWithFlows();
    const run = d.start("spinForever");
    const spinning = await eventually(() => d.workspacePids("spin-forever.log")[0], 10_000, "the spin to start");
    // Nothing ends this spin but the cancel: whatever the daemon answers now, it answers beside it.
    expect((await fetch(`http://127.0.0.1:${d.port}/health`)).ok).toBe(true);
    expect(d.json<{ runs: { id: string; status: string }[] }>("run", "list").runs.find((r) => r.id === run)?.status).toBe("running");
    expect(isAlive(spinning)).toBe(true);
    const cancelledAt = Date.now();
    expect(d.json<{ run: { status: string } }>("run", "cancel", run).run.status).toBe("cancelled");
    await eventually(() => (isAlive(spinning) ? undefined : true), 15_000, "the blocked worker to die");
    await eventually(() => {
      const pids = d.json<{ workers: { pids: number[] } }>("daemon", "status").workers.pids;
      return pids.length > 0 && !pids.includes(spinning) ? true : undefined;
    }, 15_000, "a replacement worker");
    // Quiet: the cancel grace (1 s) and a little more.
    expect(Date.now() - cancelledAt).toBeLessThan(15_000);
    expect(d.result(d.start("whoAmI")).status).toBe("completed");
  }, 30_000);

  test("user code sees its own pid, no VILANO_* variable, and the project's shared folder as its working directory", () => {
    const d = daemonWithFlows({ VILANO_LOG_LEVEL: "info" });
    const who = d.result(d.start("whoAmI")).output as { pid: number; cwd: string; vilanoVariables: string[] };
    expect(who.pid).not.toBe(d.pid());
    expect(who.vilanoVariables).toEqual([]);
    expect(who.cwd).toBe(join(d.workspaces, "flows", "shared"));
  }, 30_000);

  test("project add imports the code in the worker that then runs its first activation: its top-level code runs once", () => {
    const d = testDaemon({ VILANO_WORKERS: "2" });
    // Top-level code notes each import of the module (in the shared folder, every pooled worker's working directory).
    const project = writeProject({
      "src/once.ts":
        'import { appendFileSync } from "node:fs";\nimport { workflow } from "@vilano/runtime";\nappendFileSync("imports.log", `${process.pid}\\n`);\n' +
        "export const whoRan = workflow({ name: \"whoRan\", run: async () => ({ pid: process.pid }) });\n",
    });
    expect(d.cli("project", "add", project, "--name", "once").exitCode).toBe(0);
    const imports = () => filePids(join(d.workspaces, "once", "shared", "imports.log"));
    expect(imports()).toHaveLength(1);
    const id = d.json<{ run: { id: string } }>("run", "start", "once/whoRan").run.id;
    const run = d.json<{ run: { status: string; output?: { pid: number } } }>("run", "result", id, "--wait", "--timeout", "15s").run;
    expect(run.status).toBe("completed");
    expect(run.output?.pid).toBe(imports()[0]!);
    expect(imports()).toHaveLength(1);
  }, 30_000);

  test("the daemon starts a worker ahead of any project: the first project whose workers start with the plain environment is imported by it, one with an environment of its own is not", async () => {
    const d = testDaemon({ VILANO_WORKERS: "2" });
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    const ahead = await eventually(() => workerChildren(d.pid())[0], 10_000, "the worker started ahead");
    // Each import notes its process, the variable the project sets, and where it runs (its first line of code, before any step).
    const noting = 'import { appendFileSync } from "node:fs";\nimport { workflow } from "@vilano/runtime";\nappendFileSync("imports.log", `${process.pid} ${process.env.MARK ?? "-"} ${process.cwd()}\\n`);\nexport const w = workflow({ name: "w", run: async () => process.pid });\n';
    const imports = (name: string) => fileLines(join(d.workspaces, name, "shared", "imports.log")).map((line) => line.split(" "));

    expect(d.cli("project", "add", writeProject({ "src/w.ts": noting, "vilano.toml": '[worker.env]\nMARK = "own"\n' }), "--name", "own").exitCode).toBe(0);
    expect(imports("own")).toHaveLength(1);
    const [ownPid, mark] = imports("own")[0]!;
    expect(Number(ownPid)).not.toBe(ahead);
    expect(mark).toBe("own");
    expect(isAlive(ahead)).toBe(true);

    expect(d.cli("project", "add", writeProject({ "src/w.ts": noting }), "--name", "plain").exitCode).toBe(0);
    expect(imports("plain")).toEqual([[String(ahead), "-", join(d.workspaces, "plain", "shared")]]);
    const id = d.json<{ run: { id: string } }>("run", "start", "plain/w").run.id;
    expect(d.json<{ run: { output?: unknown } }>("run", "result", id, "--wait", "--timeout", "15s").run.output).toBe(ahead);
  }, 30_000);

  test.each([
    ["never settles", "await new Promise(() => {});", "did not finish within 1s"],
    ["calls process.exit", "process.exit(5);", "exited with code 5"],
  ])("project add of a module whose top level %s fails clearly within the limit; the daemon answers afterwards", async (_what, topLevel, message) => {
    const d = testDaemon({ VILANO_IMPORT_TIMEOUT: "1s", VILANO_WORKERS: "1" });
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    d.pid();
    const bad = writeProject({ "src/bad.ts": `import { workflow } from "@vilano/runtime";\n${topLevel}\nexport const w = workflow({ name: "w", run: async () => 1 });\n` });
    const [added, ms] = await timed(() => d.cli("project", "add", bad, "--name", "bad", "--json"));
    expect(added.exitCode).toBe(2);
    expect(JSON.parse(added.stdout).error.message).toContain(message);
    expect(JSON.parse(added.stdout).error.message).toContain("src/bad.ts");
    // Quiet: the 1 s limit and a little more; never settling would wait out the test.
    expect(ms).toBeLessThan(15_000);
    expect(d.json<{ answering: boolean }>("daemon", "status").answering).toBe(true);
    expect(d.json<{ projects: unknown[] }>("project", "list").projects).toEqual([]);
    // The snapshot made for the failed registration is gone again.
    const snapshots = join(d.home, "snapshots", "bad");
    expect(existsSync(snapshots) ? readdirSync(snapshots) : []).toEqual([]);
  }, 30_000);
});
