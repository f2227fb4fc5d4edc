/**
 * User code cannot find the token or the runtime's settings (built executable, real workers): no
 * working directory a worker gets — the pooled workers' shared folder, an activation's own, a fresh
 * worker's, the shared workspace, a subprocess's — has the token in a folder above it, and neither a
 * worker's environment nor its parent's (the daemon's `/proc/<pid>/environ`, which `daemon start`
 * keeps free of VILANO_* by handing the daemon its settings on standard input) names a setting.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../helpers/binary.ts";
import { testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "token-flows.ts"), "utf8");

interface Probe {
  inStep: {
    cwd: string;
    workspace: string;
    pid: number;
    ppid: number;
    fromCwd: Record<string, string>;
    fromWorkspace: Record<string, string>;
    ownSettings: string[];
    parentEnviron: { text: string } | { code: string };
  };
  exec: string;
}

function daemonWith(projects: Record<string, string | null>): TestDaemon {
  const d = testDaemon({ VILANO_WORKERS: "2", VILANO_LOG_LEVEL: "info" });
  for (const [name, toml] of Object.entries(projects)) {
    const files: Record<string, string> = { "src/flows.ts": FLOWS };
    if (toml !== null) files["vilano.toml"] = toml;
    const added = d.cli("project", "add", writeProject(files), "--name", name);
    expect(added.exitCode, added.stderr).toBe(0);
  }
  return d;
}

function probe(d: TestDaemon, project: string): Probe {
  const started = d.json<{ run: { id: string } }>("run", "start", `${project}/probe`);
  const ended = d.json<{ run: { status: string; output?: Probe; error?: unknown } }>("run", "result", started.run.id, "--wait", "--timeout", "30s");
  expect(ended.run.status, JSON.stringify(ended.run.error)).toBe("completed");
  return ended.run.output!;
}

/** What every `ctx.exec` subprocess is told about itself (not the runtime's settings). */
const EXEC_OWN = ["VILANO_EXEC_ATTEMPT", "VILANO_RUN_ID", "VILANO_OP_KEY"];

const settingNames = (environ: string) => environ.split(/[\0\n]/).filter((entry) => /^VILANO_/i.test(entry)).map((entry) => entry.split("=")[0]);

describe("the token and the daemon's settings, out of user code's reach (built executable)", () => {
  test("no relative path from any working directory a worker gets reads the token, and no environment a worker can read names a setting", () => {
    const d = daemonWith({ pooled: null, fresh: '[worker]\nisolation = "fresh"\n', shared: '[worker]\nworkspace = "shared"\n' });
    const token = readFileSync(join(d.home, "token"), "utf8").trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const daemon = d.pid();

    // The daemon's own environment, read as any process of its user can.
    const environ = readFileSync(`/proc/${daemon}/environ`, "utf8");
    expect(settingNames(environ)).toEqual([]);
    expect(environ).not.toContain(token);

    for (const project of ["pooled", "fresh", "shared"]) {
      const { inStep, exec } = probe(d, project);
      // A worker's parent is the daemon itself: /proc/<ppid>/environ is the daemon's.
      expect(inStep.ppid).toBe(daemon);
      expect({ project, found: inStep.fromCwd }).toEqual({ project, found: {} });
      expect({ project, found: inStep.fromWorkspace }).toEqual({ project, found: {} });
      expect(inStep.ownSettings).toEqual([]);
      expect("text" in inStep.parentEnviron).toBe(true);
      const parent = "text" in inStep.parentEnviron ? inStep.parentEnviron.text : "";
      expect({ project, settings: settingNames(parent) }).toEqual({ project, settings: [] });
      expect(parent).not.toContain(token);
      // The subprocess: nothing read by a relative path, no setting of its own nor in its worker's environment.
      const [read, own, worker] = exec.split("--\n");
      expect({ project, read }).toEqual({ project, read: "" });
      expect({ project, own: own?.split("\n").filter((name) => name !== "" && !EXEC_OWN.includes(name)) }).toEqual({ project, own: [] });
      expect(settingNames(worker ?? "")).toEqual([]);
      expect(exec).not.toContain(token);
    }
  }, 120_000);
});

describe("daemon run --settings-stdin", () => {
  test("refuses settings that are not an object of VILANO_* names to strings, naming what was wrong", () => {
    const notJson = runCli(["daemon", "run", "--settings-stdin"], { stdin: "VILANO_PORT=1" });
    expect(notJson.exitCode).not.toBe(0);
    expect(notJson.stderr).toContain("the settings on standard input are not JSON");
    const wrongName = runCli(["daemon", "run", "--settings-stdin"], { stdin: JSON.stringify({ PATH: "/bin" }) });
    expect(wrongName.exitCode).not.toBe(0);
    expect(wrongName.stderr).toContain("invalid setting PATH on standard input: is not a VILANO_* name");
  }, 60_000);
});
