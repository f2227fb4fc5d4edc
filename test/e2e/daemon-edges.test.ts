/** Daemon and CLI edges: relative paths, usage errors under --json, stale daemon.json with a reused pid. */
import { afterEach, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { signalChild, signalProcess } from "../../src/shared/index.ts";
import { BINARY, runCli } from "../helpers/binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";
import { freePort } from "../helpers/daemon.ts";

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    signalProcess(pid, "SIGTERM");
  }
});

function project(dir: string) {
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(
    join(dir, "src", "wf.ts"),
    `import { workflow } from "@vilano/runtime";\nexport const hello = workflow({ name: "hello", run: async (input: unknown) => input });\n`,
  );
  writeFileSync(
    join(dir, "vilano.manifest.json"),
    JSON.stringify({
      manifestVersion: 1,
      definitions: { workflows: [{ kind: "workflow", name: "hello", exportName: "hello", file: "src/wf.ts", runtimeKind: "javascript", sourceLanguage: "typescript" }], services: [] },
    }),
  );
}

function spawnCli(args: string[], home: string, cwd: string, env: Record<string, string> = {}) {
  return Bun.spawnSync([BINARY, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VILANO_HOME: home, NO_COLOR: "1", TZ: "UTC", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
}

test("project add <relative path> resolves the path against the CLI's cwd, not the daemon's", () => {
  const home = tempDir("vilano-home-");
  const env = { VILANO_PORT: String(freePort()) };
  const daemonCwd = tempDir("vilano-cwd-a-");
  const workCwd = tempDir("vilano-cwd-b-");
  project(join(workCwd, "my-proj"));
  const s = spawnCli(["daemon", "start", "--json"], home, daemonCwd, env);
  expect(s.exitCode).toBe(0);
  started.push(JSON.parse(s.stdout.toString()).daemon.pid);
  const add = spawnCli(["project", "add", "./my-proj", "--name", "myproj", "--json"], home, workCwd, env);
  expect(add.stdout.toString()).toContain('"ok":true');
  expect(add.exitCode).toBe(0);
}, 60_000);

test("with --json, a usage error (missing required argument) still prints one JSON error object on stdout", () => {
  const home = tempDir("vilano-home-");
  const r = runCli(["project", "add", "--json"], { home });
  expect(r.exitCode).not.toBe(0);
  const parsed = JSON.parse(r.stdout);
  expect(parsed.ok).toBe(false);
});

test("daemon stop does not SIGTERM an unrelated process whose pid is in a stale daemon.json", async () => {
  const home = tempDir("vilano-home-");
  // e.g. the daemon was killed -9 / the machine rebooted, and the pid was reused by another process of the user
  const victim = Bun.spawn(["sleep", "30"]);
  writeFileSync(join(home, "daemon.json"), JSON.stringify({ pid: victim.pid, port: freePort(), version: "0.1.0", startedAt: new Date().toISOString() }));
  const r = runCli(["daemon", "stop", "--json"], { home });
  await Bun.sleep(200);
  const victimAlive = victim.exitCode === null && victim.signalCode === null;
  signalChild(victim);
  expect({ victimAlive, stdout: r.stdout.trim() }).toEqual({ victimAlive: true, stdout: expect.stringContaining('"stopped":false') });
}, 20_000);

test("a daemon starting over an emptied token file writes a new token, and the CLI uses it", () => {
  const home = tempDir("vilano-home-");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "token"), "");
  const env = { VILANO_PORT: String(freePort()) };
  const s = spawnCli(["daemon", "start", "--json"], home, home, env);
  expect(s.exitCode).toBe(0);
  started.push((JSON.parse(s.stdout.toString()) as { daemon: { pid: number } }).daemon.pid);
  expect(readFileSync(join(home, "token"), "utf8").trim()).toMatch(/^[0-9a-f]{64}$/);
  const list = spawnCli(["project", "list", "--json"], home, home, env);
  expect(list.exitCode).toBe(0);
  expect(JSON.parse(list.stdout.toString())).toEqual({ ok: true, projects: [] });
}, 60_000);
