/**
 * A `ctx.exec` subprocess whose worker dies before the daemon has read the worker's `exec_start`:
 * by then the subprocess has been handed to init (ppid 1), so it no longer descends from the worker
 * — yet it is the run's, and the run runs again elsewhere. It must be ended with the worker, or the
 * command runs twice at once. Real worker processes, a real SIGKILL.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { createLogger, isProcessAlive, signalProcess } from "../../src/shared/index.ts";
import { afterThisFile } from "../helpers/cleanup.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const onLinux = existsSync("/proc/self/stat");

const FLOWS = `
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";

/** Whether this process has a child whose command line holds \`mark\`. */
function hasChild(mark: string): boolean {
  for (const entry of readdirSync("/proc")) {
    if (!/^\\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync("/proc/" + entry + "/stat", "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === process.pid && readFileSync("/proc/" + entry + "/cmdline", "utf8").includes(mark)) return true;
    } catch {}
  }
  return false;
}

/**
 * Starts a long subprocess once the test says "go" (a file in \`dir\`), then (the first time only)
 * SIGKILLs its own worker as soon as the subprocess runs.
 */
export const execThenCrash = workflow({
  name: "execThenCrash",
  run: async ({ mark, dir }: { mark: string; dir: string }, ctx) => {
    writeFileSync(dir + "/waiting", "");
    while (!existsSync(dir + "/go")) await Bun.sleep(5);
    // Run again (after the crash), the subprocess ends at once: the run can finish.
    const sub = ctx.exec({ name: "sleeper", cmd: "sh", args: ["-c", "[ -f " + dir + "/crashed-once ] && exit 0; exec sleep " + mark] });
    if (!existsSync(dir + "/crashed-once")) {
      while (!hasChild(mark)) await Bun.sleep(1);
      // Time for the worker's exec_start to reach the socket (a send is written on a later tick):
      // this test is about a claim sent but read only after the worker's death, not one never sent.
      await Bun.sleep(200);
      writeFileSync(dir + "/crashed-once", "");
      process.kill(process.pid, "SIGKILL");
    }
    await sub;
    return "ran again";
  },
});
`;

/** The live processes whose command line is \`sleep <mark>\`. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

function sleepers(mark: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8") === `sleep\0${mark}\0` && isProcessAlive(Number(entry))) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

test.skipIf(!onLinux)("a subprocess whose worker was SIGKILLed before its exec_start was read is ended, and the run runs again", async () => {
  // A number of seconds no other process uses: it names this test's subprocess.
  const mark = `3600.${process.pid}${Math.floor(Math.random() * 1e6)}`;
  afterThisFile(() => {
    for (const pid of sleepers(mark)) signalProcess(pid, "SIGKILL");
  });
  const project = writeProject({ "src/flows.ts": FLOWS });
  await using rt = await createRuntime({ database: join(tempDir(), "runtime.sqlite"), workers: 1, project, workspace: tempDir("vilano-workspace-"), logger: createLogger("silent") });
  const dir = tempDir("vilano-gate-");
  const run = await rt.start("execThenCrash", { mark, dir } as never);
  await eventually(() => (existsSync(join(dir, "waiting")) ? true : undefined), 20_000, "the workflow to wait for go");
  // The daemon (this process) reads nothing from here until the worker is dead and its subprocess
  // handed to init: the worker's exec_start is read only after, as on a busy daemon.
  writeFileSync(join(dir, "go"), "");
  const until = Date.now() + 20_000;
  while (!(existsSync(join(dir, "crashed-once")) && sleepers(mark).some((pid) => parentOf(pid) === 1)) && Date.now() < until) Bun.sleepSync(5);
  expect(sleepers(mark).map(parentOf)).toEqual([1]);
  expect(await run.result({ timeout: "30s" })).toBe("ran again");
  // The crashed worker's subprocess is not left running beside the run's second go.
  await eventually(() => (sleepers(mark).length === 0 ? true : undefined), 10_000, `the subprocess "sleep ${mark}" of the killed worker to be ended`);
  expect((await rt.inspect(run.id)).events.filter((e) => e.type === "worker_crashed")).toHaveLength(1);
}, 60_000);
