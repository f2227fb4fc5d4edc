/**
 * A working directory per activation, through the daemon of the built executable: runs never see
 * each other's relative files, a directory is gone once its activation ends (completed, cancelled,
 * its worker dead) unless the project keeps it, the snapshot's node_modules is linked in, nothing
 * above it holds the token, and `vilano.toml` can opt back into one shared directory.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { signalProcess } from "../../src/shared/index.ts";
import { runCli } from "../helpers/binary.ts";
import { freePort, isAlive, testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "workspace-flows.ts"), "utf8");

const NODE_MODULES = { "node_modules/greeting/index.js": 'module.exports = "hello from the snapshot";\n', "node_modules/greeting/package.json": '{ "name": "greeting", "main": "index.js" }\n' };

function daemonWith(projects: Record<string, string | null>, env: Record<string, string> = {}): TestDaemon & { start(target: string, input?: unknown): string; result(id: string): { status: string; output?: any; error?: any } } {
  const d = testDaemon({ VILANO_WORKERS: "2", ...env });
  for (const [name, toml] of Object.entries(projects)) {
    const files: Record<string, string> = { "src/flows.ts": FLOWS, ...NODE_MODULES };
    if (toml !== null) files["vilano.toml"] = toml;
    const added = d.cli("project", "add", writeProject(files), "--name", name);
    expect(added.exitCode, added.stderr).toBe(0);
  }
  d.pid();
  return {
    ...d,
    start: (target, input) => d.json<{ run: { id: string } }>("run", "start", target, ...(input === undefined ? [] : ["--input", JSON.stringify(input)])).run.id,
    result: (id) => d.json<{ run: { status: string; output?: unknown; error?: unknown } }>("run", "result", id, "--wait", "--timeout", "20s").run as never,
  };
}

/** Every folder from `dir` up to the root. */
const ancestors = (dir: string) => {
  const all = [dir];
  while (dirname(all.at(-1)!) !== all.at(-1)) all.push(dirname(all.at(-1)!));
  return all;
};

describe("a working directory per activation (built executable)", () => {
  test("two concurrent runs writing the same relative file each read their own; a second run starts in a fresh directory; each directory is removed when its activation ends", async () => {
    const d = daemonWith({ ws: null });
    const sync = tempDir("vilano-sync-");
    const a = d.start("ws/collide", { tag: "a", sync, peers: ["a", "b"] });
    const b = d.start("ws/collide", { tag: "b", sync, peers: ["a", "b"] });
    const [ra, rb] = [d.result(a), d.result(b)];
    expect(ra).toMatchObject({ status: "completed", output: { content: "a" } });
    expect(rb).toMatchObject({ status: "completed", output: { content: "b" } });
    expect(ra.output.dir).not.toBe(rb.output.dir);
    // ctx.workspace is the directory exec ran in: the activation's own, under the daemon's workspaces.
    expect(ra.output.workspace).toBe(ra.output.dir);
    expect(relative(d.workspaces, ra.output.dir).startsWith("..")).toBe(false);

    const first = d.result(d.start("ws/leave"));
    const second = d.result(d.start("ws/leave"));
    expect(first.output).toMatchObject({ seen: "fresh" });
    expect(second.output).toMatchObject({ seen: "fresh" });
    for (const r of [ra, rb, first, second]) await eventually(() => (existsSync(r.output.dir) ? undefined : true), 10_000, `${r.output.dir} to be removed`);
  }, 60_000);

  test("a workspaces folder reached through a link in a folder everyone may write to (1777, like /tmp) works for a project without a `[worker] user`", () => {
    // The link sits in a sticky, world-writable folder, as a VILANO_WORKSPACES or TMPDIR through /tmp would.
    const open = tempDir("vilano-open-");
    chmodSync(open, 0o1777);
    mkdirSync(join(open, "real"));
    symlinkSync(join(open, "real"), join(open, "link"));
    const d = daemonWith({ ws: null }, { VILANO_WORKSPACES: join(open, "link", "workspaces") });
    const { status, output, error } = d.result(d.start("ws/leave"));
    expect({ status, error }).toMatchObject({ status: "completed" });
    expect(output).toMatchObject({ seen: "fresh", link: "link" });
    expect(output.dir.startsWith(`${realpathSync(join(open, "real"))}/workspaces/`)).toBe(true);
  }, 60_000);

  test("the snapshot's node_modules is linked in, and no folder above the directory holds the token", () => {
    const d = daemonWith({ ws: null });
    const { output } = d.result(d.start("ws/leave"));
    expect(output).toMatchObject({ link: "link", greeting: 'module.exports = "hello from the snapshot";' });
    expect(existsSync(join(d.home, "token"))).toBe(true);
    for (const folder of ancestors(output.dir)) {
      expect(folder).not.toBe(d.home);
      expect(existsSync(join(folder, "token"))).toBe(false);
    }
  }, 60_000);

  test('`workspace = "shared"` opts back into one directory for the project, kept; `keep_workspace = true` keeps each activation\'s', () => {
    const d = daemonWith({ shared: '[worker]\nworkspace = "shared"\n', kept: "[worker]\nkeep_workspace = true\n" });
    const [s1, s2] = [d.result(d.start("shared/leave")), d.result(d.start("shared/leave"))];
    expect(s1.output).toMatchObject({ seen: "fresh", link: "link" });
    expect(s2.output).toMatchObject({ seen: "seen", dir: s1.output.dir });
    expect(existsSync(join(s1.output.dir, "leftover.txt"))).toBe(true);

    const [k1, k2] = [d.result(d.start("kept/leave")), d.result(d.start("kept/leave"))];
    expect(k1.output).toMatchObject({ seen: "fresh" });
    expect(k2.output).toMatchObject({ seen: "fresh" });
    expect(k1.output.dir).not.toBe(k2.output.dir);
    for (const r of [k1, k2]) expect(readFileSync(join(r.output.dir, "leftover.txt"), "utf8")).toBe("left\n");
  }, 60_000);

  test("a cancelled activation's directory is removed with its subprocess", async () => {
    const d = daemonWith({ ws: null });
    const out = join(tempDir("vilano-out-"), "hold");
    const run = d.start("ws/hold", { out });
    const [dir, pid] = await eventually(() => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n") : undefined), 10_000, "the subprocess to start");
    expect(existsSync(dir!)).toBe(true);
    expect(d.json<{ run: { status: string } }>("run", "cancel", run).run.status).toBe("cancelled");
    await eventually(() => (existsSync(dir!) ? undefined : true), 10_000, "the directory to be removed");
    await eventually(() => (isAlive(Number(pid)) ? undefined : true), 10_000, "the subprocess to be killed");
  }, 60_000);

  test("the directories of activations whose worker died are removed", async () => {
    const d = daemonWith({ ws: null });
    const outs = tempDir("vilano-out-");
    const run = d.start("ws/crash", { out: join(outs, "dir") });
    expect(d.result(run)).toMatchObject({ status: "failed", error: { code: "worker_crashed" } });
    const dirs = readdirSync(outs).map((file) => readFileSync(join(outs, file), "utf8"));
    expect(dirs).toHaveLength(3);
    expect(new Set(dirs).size).toBe(3);
    for (const dir of dirs) await eventually(() => (existsSync(dir) ? undefined : true), 10_000, `${dir} to be removed`);
  }, 60_000);

  test("a daemon killed with -9 leaves its activations' directories; the daemon that starts next removes them", async () => {
    const d = daemonWith({ ws: null });
    const out = join(tempDir("vilano-out-"), "hold");
    const run = d.start("ws/hold", { out });
    const [dir] = await eventually(() => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n") : undefined), 10_000, "the subprocess to start");
    const daemon = d.pid();
    expect(signalProcess(daemon, "SIGKILL")).toBe(true);
    await eventually(() => (isAlive(daemon) ? undefined : true), 10_000, "the daemon to die");
    expect(existsSync(dir!)).toBe(true);
    // The next mutating command starts a daemon again; it sweeps before running anything.
    expect(d.json<{ run: { status: string } }>("run", "cancel", run).run.status).toBe("cancelled");
    expect(existsSync(dir!)).toBe(false);
  }, 60_000);

  test("a second daemon started on a home whose daemon runs is refused, and touches none of the live activations' directories or subprocesses", async () => {
    const d = daemonWith({ ws: null });
    const out = join(tempDir("vilano-out-"), "hold");
    const run = d.start("ws/hold", { out });
    const [dir, pid] = await eventually(() => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n") : undefined), 10_000, "the subprocess to start");
    const second = runCli(["daemon", "run"], { home: d.home, env: { ...d.env, VILANO_PORT: String(freePort()) } });
    expect(second.exitCode).not.toBe(0);
    expect(second.stderr).toContain("is in use by process");
    expect(existsSync(dir!)).toBe(true);
    expect(isAlive(Number(pid))).toBe(true);
    expect(d.json<{ run: { status: string } }>("run", "cancel", run).run.status).toBe("cancelled");
  }, 60_000);

  test('with `isolation = "fresh"` the process works in the activation\'s directory', () => {
    const d = daemonWith({ fresh: '[worker]\nisolation = "fresh"\n' });
    const { output } = d.result(d.start("fresh/where"));
    expect(output.cwd).toBe(output.workspace);
    expect(relative(d.workspaces, output.cwd).startsWith("..")).toBe(false);
  }, 60_000);
});
