/**
 * Which subprocess groups the daemon believes a worker started (worker/exec-groups.ts) and which
 * the exec ledger ends after a crash (runtime/exec-ledger.ts): real processes, read in /proc. This
 * test process plays the worker; its children play the subprocesses.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isSameExecGroup, vetExecGroup } from "../../src/worker/exec-groups.ts";
import { createExecLedger } from "../../src/runtime/exec-ledger.ts";
import { createLogger, isProcessAlive, processLineage, signalChild, signalProcessGroup } from "../../src/shared/index.ts";
import { afterThisFile } from "../helpers/cleanup.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const onLinux = existsSync("/proc/self/stat") && Bun.which("setsid") !== null;
const me = { pid: process.pid, uid: process.getuid?.() ?? null };

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
    expect(isSameExecGroup(group as Exclude<typeof group, string>)).toBe(true);
  }, 30_000);

  test("a group that is not the worker's, the daemon's own, another uid's, or no group leader is refused, naming the worker", async () => {
    const stranger = child();
    // A worker the stranger does not descend from.
    const { worker: other, sub } = await workerWithSubprocess();
    expect(vetExecGroup(stranger.pid, { pid: other.pid, uid: me.uid })).toBe(`worker ${other.pid} said it started a subprocess group ${stranger.pid}, which is not a process that worker started: it will not be signalled for it`);
    expect(vetExecGroup(process.pid, me)).toContain("is the daemon's own");
    expect(vetExecGroup(processLineage(process.pid)!.pgrp, me)).toContain("is the daemon's own");
    expect(vetExecGroup(1, me)).toContain("is no process group");
    expect(vetExecGroup(0, me)).toContain("is no process group");
    expect(vetExecGroup(sub, { pid: other.pid, uid: 54321 })).toContain(`runs as uid ${me.uid}, not the worker's uid 54321`);
    const inMyGroup = child(false);
    expect(vetExecGroup(inMyGroup.pid, other)).toContain("does not lead its own process group");
  }, 30_000);

  test("a group whose leader is another process now (another start time) is not the same group", async () => {
    const { worker, sub } = await workerWithSubprocess();
    const group = vetExecGroup(sub, worker) as { pid: number; start: number; uid: number };
    expect(isSameExecGroup({ ...group, start: group.start - 1 })).toBe(false);
    expect(isSameExecGroup({ ...group, uid: group.uid + 1 })).toBe(false);
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
