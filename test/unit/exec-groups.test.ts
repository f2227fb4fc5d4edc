/**
 * Which subprocess groups the daemon believes a worker started (worker/exec-groups.ts) and which
 * the exec ledger ends after a crash (runtime/exec-ledger.ts): real processes, read in /proc. This
 * test process plays the worker; its children play the subprocesses.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSameExecGroup, mayEndExecGroup, vetExecGroup, type ClaimingWorker } from "../../src/worker/exec-groups.ts";
import { createExecLedger } from "../../src/runtime/exec-ledger.ts";
import { createLogger, isProcessAlive, processLineage, signalChild, signalProcessGroup } from "../../src/shared/index.ts";
import { afterThisFile } from "../helpers/cleanup.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const onLinux = existsSync("/proc/self/stat") && Bun.which("setsid") !== null;
const me = { pid: process.pid, uid: process.getuid?.() ?? null };
/** Why a claim was refused, or "believed". */
const refusal = (pid: number, worker: ClaimingWorker) => {
  const vetted = vetExecGroup(pid, worker);
  return "refused" in vetted ? vetted.refused : "believed";
};

/** A stand-in worker (a shell) and the subprocess it started leading a group of its own, as `ctx.exec` does. */
async function workerWithSubprocess(): Promise<{ worker: { pid: number; uid: number | null }; sub: number }> {
  const shell = Bun.spawn(["sh", "-c", "setsid sleep 60 & echo $!; wait"], { detached: true, stdin: "ignore", stdout: "pipe", stderr: "ignore" });
  afterThisFile(() => signalChild(shell, "SIGKILL"));
  const reader = shell.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  const sub = Number(text.trim());
  afterThisFile(() => {
    if (isSameExecGroup({ pid: sub, start: processLineage(sub)?.start ?? -1, uid: processLineage(sub)?.uid ?? -1 })) signalProcessGroup(sub, "SIGKILL");
  });
  // setsid may not have run yet: wait until the subprocess leads its group.
  await eventually(() => (processLineage(sub)?.pgrp === sub ? true : undefined), 10_000, "the subprocess to lead its group");
  return { worker: { pid: shell.pid, uid: me.uid }, sub };
}

/** A `sleep` child, leading a group of its own unless `detached` is false; killed after the file. */
function child(detached = true) {
  const proc = Bun.spawn(["sleep", "60"], { detached, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  afterThisFile(() => signalChild(proc, "SIGKILL"));
  return proc;
}

describe.skipIf(!onLinux)("exec groups named by a worker", () => {
  test("its own subprocess, leading its group, is believed with its start time and uid", async () => {
    const { worker, sub } = await workerWithSubprocess();
    const group = vetExecGroup(sub, worker);
    expect(group).toEqual({ pid: sub, start: processLineage(sub)!.start, uid: processLineage(sub)!.uid });
    expect(isSameExecGroup(group as { pid: number; start: number; uid: number })).toBe(true);
  }, 30_000);

  test("a group that is not the worker's, the daemon's own, another uid's, or no group leader is refused, naming the worker", async () => {
    const stranger = child();
    // A worker the stranger does not descend from.
    const { worker: other, sub } = await workerWithSubprocess();
    expect(refusal(stranger.pid, { pid: other.pid, uid: me.uid })).toBe(`worker ${other.pid} said it started a subprocess group ${stranger.pid}, which is not a process that worker started: it will not be signalled for it`);
    expect(refusal(process.pid, me)).toContain("is the daemon's own");
    expect(refusal(processLineage(process.pid)!.pgrp, me)).toContain("is the daemon's own");
    expect(refusal(1, me)).toContain("is no process group");
    expect(refusal(0, me)).toContain("is no process group");
    expect(refusal(sub, { pid: other.pid, uid: 54321 })).toContain(`runs as uid ${me.uid}, not the worker's uid 54321`);
    const inMyGroup = child(false);
    expect(refusal(inMyGroup.pid, other)).toContain("does not lead its own process group");
  }, 30_000);

  test("a group whose leader is another process now (another start time) is not the same group", async () => {
    const { worker, sub } = await workerWithSubprocess();
    const group = vetExecGroup(sub, worker) as { pid: number; start: number; uid: number };
    expect(isSameExecGroup({ ...group, start: group.start - 1 })).toBe(false);
    expect(isSameExecGroup({ ...group, uid: group.uid + 1 })).toBe(false);
  }, 30_000);
});

/** Reads a line from a child's stdout. */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.trim();
}

describe.skipIf(!onLinux)("how loudly a refused claim is told", () => {
  test("a leader that has already ended (a short command) is said at debug level; a live process failing the checks is a warning", async () => {
    const short = Bun.spawn(["true"], { detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await short.exited;
    const stranger = child();
    const { worker: other } = await workerWithSubprocess();
    expect(vetExecGroup(short.pid, other)).toEqual({ refused: expect.stringContaining("is not running (it has ended already)"), level: "debug" });
    expect(vetExecGroup(stranger.pid, { ...other, start: processLineage(other.pid)!.start })).toEqual({ refused: expect.stringContaining("is not a process that worker started"), level: "warn" });
    expect(vetExecGroup(process.pid, me)).toMatchObject({ level: "warn" });
  }, 30_000);
});

describe.skipIf(!onLinux)("a subprocess whose worker died before its claim was read", () => {
  /** A stand-in worker that starts a subprocess leading its own group, says its pid, and exits when its stdin closes. */
  async function orphaned() {
    const shell = Bun.spawn(["sh", "-c", "setsid sleep 60 & echo $!; read x"], { detached: true, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    afterThisFile(() => signalChild(shell, "SIGKILL"));
    const workerStart = processLineage(shell.pid)!.start;
    const sub = Number(await firstLine(shell.stdout));
    afterThisFile(() => {
      const now = processLineage(sub);
      if (now !== null && isSameExecGroup({ pid: sub, start: now.start, uid: now.uid })) signalProcessGroup(sub, "SIGKILL");
    });
    await eventually(() => (processLineage(sub)?.pgrp === sub ? true : undefined), 10_000, "the subprocess to lead its group");
    const worker = { pid: shell.pid, uid: me.uid, start: workerStart };
    // Alive, the worker is its parent: believed the plain way.
    expect(refusal(sub, worker)).toBe("believed");
    shell.stdin.end();
    await shell.exited;
    await eventually(() => (processLineage(sub)?.ppid !== shell.pid ? true : undefined), 10_000, "the subprocess to be handed to init");
    return { worker, sub };
  }

  test("is believed when it started after the worker, runs as its user and leads its group", async () => {
    const { worker, sub } = await orphaned();
    expect(vetExecGroup(sub, worker)).toEqual({ pid: sub, start: processLineage(sub)!.start, uid: processLineage(sub)!.uid });
  }, 30_000);

  test("is refused when the worker's start time is unknown, later than the subprocess's, or its user another", async () => {
    const { worker, sub } = await orphaned();
    expect(refusal(sub, { ...worker, start: null })).toContain("is not a process that worker started");
    expect(refusal(sub, { ...worker, start: processLineage(sub)!.start + 1 })).toContain("is not a process that worker started");
    expect(refusal(sub, { ...worker, uid: 54321 })).toContain("not the worker's uid 54321");
  }, 30_000);
});

describe.skipIf(!onLinux)("a group whose leader has ended", () => {
  test("may be ended while what is left of it started after the leader; not with a start time that does not fit", async () => {
    // The leader (sh) leaves a member (sleep) in its group, and ends when its stdin closes.
    const leader = Bun.spawn(["sh", "-c", "sleep 60 & echo $!; read x"], { detached: true, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
    afterThisFile(() => signalChild(leader, "SIGKILL"));
    const noted = processLineage(leader.pid)!;
    const member = Number(await firstLine(leader.stdout));
    afterThisFile(() => {
      if (processLineage(member)?.pgrp === leader.pid) signalProcessGroup(leader.pid, "SIGKILL");
    });
    const group = { pid: leader.pid, start: noted.start, uid: noted.uid };
    leader.stdin.end();
    await leader.exited;
    expect(processLineage(leader.pid)).toBeNull();
    expect(isSameExecGroup(group)).toBe(false);
    expect(mayEndExecGroup({ ...group, start: processLineage(member)!.start + 1 })).toBe(false);
    expect(mayEndExecGroup({ ...group, uid: group.uid + 1 })).toBe(false);
    expect(mayEndExecGroup(group)).toBe(true);
    signalProcessGroup(group.pid, "SIGKILL");
    await eventually(() => (isProcessAlive(member) ? undefined : true), 10_000, "the member left in the group to be ended");
    expect(mayEndExecGroup(group)).toBe(false);
  }, 30_000);
});

describe.skipIf(!onLinux)("the exec ledger after a crash", () => {
  test("ends a noted group whose leader is the one noted, never an entry without its uid (an older note) or with another start time", async () => {
    const [noted, legacy, reused] = [child(), child(), child()];
    const path = join(tempDir(), "exec-groups.json");
    const lineage = (pid: number) => processLineage(pid)!;
    writeFileSync(
      path,
      JSON.stringify({
        [noted.pid]: { start: lineage(noted.pid).start, uid: lineage(noted.pid).uid },
        [legacy.pid]: lineage(legacy.pid).start,
        [reused.pid]: { start: lineage(reused.pid).start + 1, uid: lineage(reused.pid).uid },
      }),
    );
    expect(createExecLedger(path, createLogger("silent")).open()).toBe(1);
    await eventually(() => (isProcessAlive(noted.pid) ? undefined : true), 10_000, "the noted group to be ended");
    expect({ legacy: isProcessAlive(legacy.pid), reused: isProcessAlive(reused.pid) }).toEqual({ legacy: true, reused: true });
  }, 30_000);
});
