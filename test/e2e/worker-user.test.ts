/**
 * `[worker] user` (built executable, a daemon run as root, real workers): the project's workers run
 * as that OS user — they cannot read the token, the daemon's /proc files or signal it, and they work
 * in folders of their own — and a user that does not exist is refused when the project is added.
 * What its code sends the daemon is not believed where root would act on it: a forged `exec_start`
 * kills nothing that is not the worker's, and a link put in place of its folders is never followed.
 * Creates the throwaway system user `vilano-test-worker` when it is absent. Needs root: skipped,
 * saying so, otherwise.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { isProcessAlive, processLineage, signalChild, signalProcess } from "../../src/shared/index.ts";
import { BINARY } from "../helpers/binary.ts";
import { afterThisFile } from "../helpers/cleanup.ts";
import { freePort, testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "worker-user-flows.ts"), "utf8");
const ATTACKS = readFileSync(join(import.meta.dir, "..", "fixtures", "worker-user-attack-flows.ts"), "utf8");
const USER = "vilano-test-worker";
const isRoot = process.getuid?.() === 0;

if (!isRoot) console.warn(`worker-user.test.ts: skipped — running workers as another user needs root (this runs as uid ${process.getuid?.()})`);

/** The throwaway user's uid and gid, made first if absent (idempotent: a concurrent creation is fine). */
function testUser(): { uid: number; gid: number } {
  const look = () => Bun.spawnSync(["getent", "passwd", USER], { stdout: "pipe" });
  let found = look();
  if (found.exitCode !== 0) {
    Bun.spawnSync(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], { stderr: "pipe" });
    found = look();
  }
  if (found.exitCode !== 0) throw new Error(`could not create the test user ${USER}`);
  const fields = found.stdout.toString().trim().split(":");
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** A workspaces base the worker user can pass through to (a test's own temp folders are 0700 all the way up). */
function reachableBase(): string {
  const dir = mkdtempSync("/tmp/vilano-worker-user-");
  chmodSync(dir, 0o711);
  afterThisFile(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "base");
}

describe("[worker] user (built executable, daemon as root)", () => {
  test.skipIf(!isRoot)("a step in a worker run as another user is that user, cannot read the token, the daemon's environ or fds, nor signal it, and writes where it works", () => {
    const { uid, gid } = testUser();
    const d = testDaemon({ VILANO_WORKERS: "2", VILANO_WORKSPACES: reachableBase() });
    const project = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": `[worker]\nuser = "${USER}"\nisolation = "fresh"\n` });
    chmodSync(project, 0o755);
    const pooled = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": `[worker]\nuser = "${USER}"\n` });
    for (const [name, dir] of [["fresh", project], ["pooled", pooled]] as const) {
      const added = d.cli("project", "add", dir, "--name", name);
      expect(added.exitCode, added.stderr + added.stdout).toBe(0);
    }
    const daemon = d.pid();
    const token = join(d.home, "token");
    // The home stays the daemon's alone.
    expect(statSync(d.home).mode & 0o777).toBe(0o700);
    expect(statSync(token).mode & 0o777).toBe(0o600);

    for (const name of ["fresh", "pooled"]) {
      const started = d.json<{ run: { id: string } }>("run", "start", `${name}/whoami`, "--input", JSON.stringify({ token, daemon }));
      const ended = d.json<{ run: { status: string; output?: any; error?: unknown } }>("run", "result", started.run.id, "--wait", "--timeout", "30s");
      expect(ended.run.status, JSON.stringify(ended.run.error)).toBe("completed");
      const { inStep, exec } = ended.run.output;
      expect({ name, uid: inStep.uid, gid: inStep.gid, groups: inStep.groups }).toEqual({ name, uid, gid, groups: [] });
      expect(inStep.uid).not.toBe(0);
      expect(inStep.ppid).toBe(daemon);
      expect({ name, token: inStep.readToken, environ: inStep.readParentEnviron, fds: inStep.listParentFds }).toEqual({ name, token: "EACCES", environ: "EACCES", fds: "EACCES" });
      expect({ name, cwd: inStep.writeCwd, workspace: inStep.writeWorkspace }).toEqual({ name, cwd: "ok", workspace: "ok" });
      expect(exec).toEqual({ uid: String(uid), wrote: "wrote", signal: "refused" });
    }
  }, 120_000);

  test.skipIf(!isRoot)("a forged exec_start on the IPC descriptor never makes the root daemon kill a group that is not the worker's (nor the daemon's own)", async () => {
    testUser();
    const d = testDaemon({ VILANO_WORKERS: "2", VILANO_WORKSPACES: reachableBase() });
    const asUser = writeProject({ "src/flows.ts": ATTACKS, "vilano.toml": `[worker]\nuser = "${USER}"\nisolation = "fresh"\n` });
    const sameUser = writeProject({ "src/flows.ts": ATTACKS, "vilano.toml": '[worker]\nisolation = "fresh"\n' });
    for (const [name, dir] of [["asuser", asUser], ["sameuser", sameUser]] as const) {
      const added = d.cli("project", "add", dir, "--name", name);
      expect(added.exitCode, added.stderr + added.stdout).toBe(0);
    }
    const daemon = d.pid();
    const daemonGroup = processLineage(daemon)!.pgrp;
    const log = () => readFileSync(join(d.home, "logs", "daemon.log"), "utf8");
    for (const name of ["asuser", "sameuser"]) {
      // Root's own process, leading a group of its own: nothing of the worker's.
      const victim = Bun.spawn(["sleep", "300"], { detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
      afterThisFile(() => signalChild(victim, "SIGKILL"));
      // The daemon's group too, unless it is this test's own (a regression would kill the test run itself).
      const pids = [victim.pid, daemon, ...(daemonGroup !== daemon && daemonGroup !== processLineage(process.pid)!.pgrp ? [daemonGroup] : [])];
      const started = d.json<{ run: { id: string } }>("run", "start", `${name}/forge-exec-start`, "--input", JSON.stringify({ pids }));
      const ended = d.json<{ run: { status: string; output?: { worker: number }; error?: unknown } }>("run", "result", started.run.id, "--wait", "--timeout", "30s");
      expect(ended.run.status, JSON.stringify(ended.run.error)).toBe("completed");
      const worker = ended.run.output!.worker;
      // Its fresh worker ends with its activation: that is when the daemon ends the groups it believed.
      await eventually(() => (isProcessAlive(worker) ? undefined : true), 30_000, `worker ${worker} to exit`);
      await eventually(() => (!isProcessAlive(victim.pid) || log().includes(`worker ${worker} said it started a subprocess group ${victim.pid}`) ? true : undefined), 30_000, "the forged group to be killed or refused");
      expect({ name, victimAlive: isProcessAlive(victim.pid), daemonAlive: isProcessAlive(daemon) }).toEqual({ name, victimAlive: true, daemonAlive: true });
      expect(log()).toContain(`worker ${worker} said it started a subprocess group ${daemon}, which is the daemon's own: it will not be signalled for it`);
    }
    // The daemon still answers.
    const status = d.cli("daemon", "status");
    expect(status.exitCode, status.stderr).toBe(0);
  }, 120_000);

  test.skipIf(!isRoot)("a link the worker user's code puts in place of its folders is never followed: no chown, chmod or folder made where it points", async () => {
    const { uid, gid } = testUser();
    const base = reachableBase();
    const d = testDaemon({ VILANO_WORKERS: "2", VILANO_WORKSPACES: base });
    // Root's folders the links point at, 0755 as /etc is; and a place the user may note that it struck.
    const [sharedTarget, runsTarget] = [mkdtempSync("/tmp/vilano-link-target-"), mkdtempSync("/tmp/vilano-link-target-")];
    for (const dir of [sharedTarget, runsTarget]) {
      chmodSync(dir, 0o755);
      afterThisFile(() => rmSync(dir, { recursive: true, force: true }));
    }
    const notes = join(dirname(base), "notes");
    mkdirSync(notes, { mode: 0o700 });
    chownSync(notes, uid, gid);
    const pooled = writeProject({ "src/flows.ts": ATTACKS, "vilano.toml": `[worker]\nuser = "${USER}"\n` });
    const fresh = writeProject({ "src/flows.ts": ATTACKS, "vilano.toml": `[worker]\nuser = "${USER}"\nisolation = "fresh"\n` });
    for (const [name, dir] of [["linkshared", pooled], ["linkruns", fresh]] as const) {
      const added = d.cli("project", "add", dir, "--name", name);
      expect(added.exitCode, added.stderr + added.stdout).toBe(0);
    }
    const runToEnd = (workflow: string, input: unknown) => {
      const started = d.json<{ run: { id: string } }>("run", "start", workflow, "--input", JSON.stringify(input));
      return d.json<{ run: { status: string; output?: any; error?: unknown } }>("run", "result", started.run.id, "--wait", "--timeout", "60s").run;
    };
    const rootsAsBefore = (dir: string) => ({ dir, uid: statSync(dir).uid, mode: (statSync(dir).mode & 0o777).toString(8), entries: readdirSync(dir) });

    // `shared/` swapped for a link, then the worker exits: its replacement's start must not chown the target.
    const shared = runToEnd("linkshared/link-shared", { target: sharedTarget, marker: join(notes, "struck") });
    expect(rootsAsBefore(sharedTarget)).toEqual({ dir: sharedTarget, uid: 0, mode: "755", entries: [] });
    expect(shared.status, JSON.stringify(shared.error)).toBe("completed");
    const mended = lstatSync(shared.output.cwd);
    expect({ link: mended.isSymbolicLink(), folder: mended.isDirectory(), uid: mended.uid }).toEqual({ link: false, folder: true, uid });
    expect(readFileSync(join(d.home, "logs", "daemon.log"), "utf8")).toContain(`was a symbolic link (to ${sharedTarget}), put there by code run as ${USER}`);

    // `runs/` swapped for a link: the next activation's folder is not made where it points.
    const linked = runToEnd("linkruns/link-runs", { target: runsTarget });
    expect(linked.status, JSON.stringify(linked.error)).toBe("completed");
    const plain = runToEnd("linkruns/plain", {});
    expect(rootsAsBefore(runsTarget)).toEqual({ dir: runsTarget, uid: 0, mode: "755", entries: [] });
    expect(plain.status, JSON.stringify(plain.error)).toBe("completed");
    const runs = lstatSync(linked.output.runs);
    expect({ link: runs.isSymbolicLink(), uid: runs.uid }).toEqual({ link: false, uid });
    expect(plain.output.cwd.startsWith(`${linked.output.runs}/`)).toBe(true);
  }, 180_000);

  test.skipIf(!isRoot)("a daemon that is not root refuses the project, saying why", () => {
    const { uid, gid } = testUser();
    // A home, project and TMPDIR the unprivileged user owns, in a folder it can pass through.
    const base = dirname(reachableBase());
    const [home, tmp] = [join(base, "home"), join(base, "tmp")];
    const project = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": `[worker]\nuser = "${USER}"\n` }, join(base, "project"));
    for (const dir of [home, tmp]) mkdirSync(dir, { mode: 0o700 });
    Bun.spawnSync(["chown", "-R", `${uid}:${gid}`, home, tmp, join(base, "project")]);
    const port = freePort();
    afterThisFile(() => {
      const info = join(home, "daemon.json");
      if (existsSync(info)) signalProcess((JSON.parse(readFileSync(info, "utf8")) as { pid: number }).pid, "SIGKILL");
    });
    const added = Bun.spawnSync(["setpriv", `--reuid=${uid}`, `--regid=${gid}`, "--clear-groups", BINARY, "project", "add", project, "--name", "asuser"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VILANO_HOME: home, VILANO_PORT: String(port), TMPDIR: tmp, NO_COLOR: "1", TZ: "UTC" },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(added.exitCode).not.toBe(0);
    expect(added.stderr.toString()).toContain(`[worker] user = "${USER}" needs the daemon to run as root (it runs as uid ${uid})`);
  }, 60_000);

  test.skipIf(!isRoot)("a user that does not exist is refused when the project is added, naming it", () => {
    const d = testDaemon({ VILANO_WORKSPACES: reachableBase() });
    const project = writeProject({ "src/flows.ts": FLOWS, "vilano.toml": '[worker]\nuser = "no-such-vilano-user"\n' });
    const added = d.cli("project", "add", project, "--name", "nouser");
    expect(added.exitCode).not.toBe(0);
    expect(added.stderr).toContain('[worker] user = "no-such-vilano-user": there is no such user on this machine');
  }, 60_000);
});
