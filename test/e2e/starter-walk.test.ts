import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, signalProcess } from "../../src/shared/index.ts";
import { runCli } from "../helpers/binary.ts";
import { STARTER_EVENTS, withoutParking } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { freePort } from "../helpers/daemon.ts";

const home = tempDir("vilano-home-");
const port = String(freePort());
const cli = (...args: string[]) => runCli(args, { home, env: { VILANO_PORT: port } });

let daemonPid: number | undefined;

// By pid: the temporary home may already be gone when this runs, and the daemon must not outlive the tests.
afterAll(async () => {
  if (daemonPid === undefined) return;
  if (!signalProcess(daemonPid, "SIGTERM")) return;
  for (let i = 0; i < 200; i++) {
    if (!isProcessAlive(daemonPid)) return;
    await Bun.sleep(25);
  }
  signalProcess(daemonPid, "SIGKILL");
});

describe("the starter walk through the built executable", () => {
  test("init → project add → run start --wait → service ask", () => {
    const started = cli("daemon", "start", "--port", port, "--json");
    expect(started.exitCode).toBe(0);
    daemonPid = JSON.parse(started.stdout).daemon.pid;
    const project = join(tempDir(), "my-agent");
    expect(cli("init", project, "--starter").exitCode).toBe(0);
    const added = cli("project", "add", project, "--name", "my-agent", "--json");
    expect(added.exitCode).toBe(0);
    expect(JSON.parse(added.stdout).project).toMatchObject({ name: "my-agent", workflows: ["reviewCoordinator"], services: ["reviewer"] });

    const run = cli("run", "start", "my-agent/reviewCoordinator", "--input", '{"repoId":"repo_123","note":"Ship 0.1"}', "--wait", "--json");
    expect(run.exitCode).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      run: {
        status: "completed",
        output: { reviewerRunId: "svc:my-agent/reviewer:repo_123", status: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] } },
      },
    });

    const asked = cli("service", "ask", "my-agent/reviewer", "status", "--key", "repo_123", "--json");
    expect(asked.exitCode).toBe(0);
    expect(JSON.parse(asked.stdout)).toEqual({ ok: true, reply: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] } });
    expect(existsSync(join(project, "node_modules"))).toBe(false);

    // Inside the project's folder the project may be left out.
    const short = runCli(["run", "start", "reviewCoordinator", "--input", '{"repoId":"here","note":"n"}', "--wait", "--json"], {
      home,
      env: { VILANO_PORT: port },
      cwd: join(project, "src"),
    });
    expect(JSON.parse(short.stdout).run.output.reviewerRunId).toBe("svc:my-agent/reviewer:here");
    const elsewhere = runCli(["run", "start", "reviewCoordinator", "--json"], { home, env: { VILANO_PORT: port }, cwd: tempDir() });
    expect(JSON.parse(elsewhere.stdout).error.message).toContain("names no project");
  }, 60_000);

  test("the home is private and daemon.json holds no secret", () => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, "token")).mode & 0o777).toBe(0o600);
    const daemonJson = Bun.file(join(home, "daemon.json"));
    return daemonJson.json().then((info: Record<string, unknown>) => {
      expect(Object.keys(info).sort()).toEqual(["pid", "port", "startedAt", "version"]);
    });
  }, 60_000);

  test("bad input is a clear error with a non-zero exit", () => {
    const badJson = cli("run", "start", "my-agent/reviewCoordinator", "--input", "{nope", "--json");
    expect(badJson.exitCode).toBe(2);
    expect(JSON.parse(badJson.stdout).error.message).toContain("--input is not valid JSON");
    const unknown = cli("run", "start", "ghost/flow", "--json");
    expect(unknown.exitCode).toBe(3);
    expect(JSON.parse(unknown.stdout).error.message).toContain('no project is named "ghost"');
    const badName = cli("project", "add", tempDir(), "--name", "Bad Name", "--json");
    expect(badName.exitCode).toBe(2);
  }, 60_000);
});

describe("run and project commands through the built executable", () => {
  test("inspect, replay, list, signal, cancel, sync and stop answer as documented", () => {
    const run = JSON.parse(cli("run", "start", "my-agent/reviewCoordinator", "--input", '{"repoId":"r2","note":"n"}', "--wait", "--json").stdout).run;
    const replay = cli("run", "replay", run.id);
    expect(replay.exitCode).toBe(0);
    const types = replay.stdout.trim().split("\n").map((line) => /^\s*\d+\s+\+\s*\d+ms\s+(\S+)/.exec(line)?.[1]);
    expect(withoutParking(types)).toEqual(STARTER_EVENTS);
    const inspect = cli("run", "inspect", run.id);
    expect(inspect.stdout).toContain("status  completed");
    expect(inspect.stdout).toContain("ask:reviewer.status:0");
    const listed = JSON.parse(cli("run", "list", "--project", "my-agent", "--json").stdout);
    expect(listed.runs.map((r: { id: string }) => r.id)).toContain(run.id);
    expect(JSON.parse(cli("run", "result", run.id, "--json").stdout).run.output.status.noteCount).toBe(1);

    const late = cli("signal", "send", run.id, "poke", "--json");
    expect(late.exitCode).toBe(4);
    expect(JSON.parse(late.stdout).error.code).toBe("run_finished");
    expect(cli("run", "cancel", run.id, "--json").exitCode).toBe(4);

    const synced = JSON.parse(cli("project", "sync", "my-agent", "--json").stdout);
    expect(synced.project.name).toBe("my-agent");
    // Unchanged code: the sync reuses the snapshot, so the project still has exactly one.
    const inspected = JSON.parse(cli("project", "inspect", "my-agent", "--json").stdout).project;
    expect(inspected.snapshots).toEqual([expect.objectContaining({ id: synced.project.snapshotId, current: true, workflows: ["reviewCoordinator"], services: ["reviewer"] })]);
    const stopped = JSON.parse(cli("service", "stop", "my-agent/reviewer", "--key", "r2", "--json").stdout);
    expect(stopped.instance.status).toBe("stopped");
    const refused = cli("service", "send", "my-agent/reviewer", "hint", "--key", "r2", "--input", '{"note":"x"}', "--json");
    expect(JSON.parse(refused.stdout).error.code).toBe("service_stopped");
  }, 60_000);
});

describe("catalog commands through the built executable", () => {
  test("workflow list, service list/inspect, run explain and daemon logs", () => {
    expect(JSON.parse(cli("workflow", "list", "--json").stdout).workflows).toContain("my-agent/reviewCoordinator");
    expect(JSON.parse(cli("service", "list", "--json").stdout).services).toEqual(["my-agent/reviewer"]);
    const instances = JSON.parse(cli("service", "list", "--instances", "--json").stdout).instances.map((i: { id: string }) => i.id);
    expect(instances).toContain("svc:my-agent/reviewer:repo_123");
    const inspected = cli("service", "inspect", "my-agent/reviewer", "--key", "repo_123");
    expect(inspected.exitCode).toBe(0);
    expect(inspected.stdout).toContain('state   {"repoId":"repo_123","notes":["Ship 0.1"]}');
    const run = JSON.parse(cli("run", "list", "--project", "my-agent", "--json").stdout).runs.find((r: { name: string }) => r.name === "reviewCoordinator");
    expect(cli("run", "explain", run.id).stdout).toContain("is completed: it finished");
    // The instance's own timeline shows its turns committing in order.
    const turns = cli("run", "replay", "svc:my-agent/reviewer:repo_123", "--json");
    const types = JSON.parse(turns.stdout).events.map((e: { type: string }) => e.type);
    expect(types.slice(0, 3)).toEqual(["instance_created", "message_enqueued", "turn_started"]);
    // Every turn commits after it starts; the next starts only after (one turn at a time).
    const turnMarks = types.filter((t: string) => t === "turn_started" || t === "turn_completed");
    turnMarks.forEach((t: string, i: number) => expect(t).toBe(i % 2 === 0 ? "turn_started" : "turn_completed"));
    expect(types.filter((t: string) => t === "turn_completed").length).toBeGreaterThanOrEqual(2);
    const logs = cli("daemon", "logs", "--lines", "5");
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain("listening on http://127.0.0.1:");
  }, 60_000);
});
