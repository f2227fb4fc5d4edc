/**
 * src/shared/signal-process.ts: every signal goes through it, and a pid that kill(2) would read as
 * a process group, every process or init is refused before anything is sent. Real processes only;
 * nothing here is ever sent to a refused pid (these tests may run as root, where kill(-1) ends
 * every process of the machine).
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, processStateLetter } from "../../src/shared/process-state.ts";
import { isSignallablePid, signalChild, signalProcess, signalProcessGroup } from "../../src/shared/signal-process.ts";
import { filePids } from "../helpers/lines.ts";
import { thrownBy } from "../helpers/thrown-by.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const HELPER = join(import.meta.dir, "..", "..", "src", "shared", "signal-process.ts");

/** The error names the signal and the pid as it was given. */
function expectRefused(error: unknown, pid: unknown): void {
  const shown = typeof pid === "string" ? JSON.stringify(pid) : String(pid);
  expect(error).toMatchObject({ name: "VilanoError", code: "internal", message: expect.stringContaining(`refusing to send SIGSTOP to pid ${shown}: it must be an integer > 1`) });
}

describe("signalProcess", () => {
  test.each([0, 1, -1, -2, Number.NaN, 1.5, Number(""), Number.POSITIVE_INFINITY, 2 ** 53])("refuses pid %p before sending anything", (pid) => {
    expectRefused(thrownBy(() => signalProcess(pid, "SIGSTOP")), pid);
  });

  test("refuses a pid that is not a number at all (a string read from a file)", () => {
    expectRefused(thrownBy(() => signalProcess("" as unknown as number, "SIGSTOP")), "");
    expectRefused(thrownBy(() => signalProcess("1234" as unknown as number, "SIGSTOP")), "1234");
  });

  test("the probe (signal 0) may name pid 1, which always exists, but never 0 or a group", () => {
    expect(isSignallablePid(1, 0)).toBe(true);
    expect(isProcessAlive(1)).toBe(true);
    for (const pid of [0, -1, Number.NaN, 1.5]) {
      expect(isSignallablePid(pid, 0)).toBe(false);
      expect(isProcessAlive(pid)).toBe(false);
    }
    expect(thrownBy(() => signalProcess(0, 0))).toMatchObject({ code: "internal", message: expect.stringContaining("the probe signal 0 to pid 0") });
  });

  test("signals a real process, and answers false once there is no such process", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    expect(signalProcess(child.pid, "SIGTERM")).toBe(true);
    await child.exited;
    expect(child.signalCode).toBe("SIGTERM");
    expect(isProcessAlive(child.pid)).toBe(false);
    expect(signalProcess(child.pid, "SIGTERM")).toBe(false);
  });
});

describe("signalProcessGroup", () => {
  test.each([0, 1, -1, -5, Number.NaN, 2.5])("refuses group %p before sending anything", (pgid) => {
    expect(thrownBy(() => signalProcessGroup(pgid, "SIGSTOP"))).toMatchObject({ code: "internal", message: expect.stringContaining(`refusing to send SIGSTOP to process group ${pgid}`) });
  });

  test("ends every process of a real group, grandchildren included", async () => {
    const dir = tempDir("vilano-signal-");
    const leader = Bun.spawn(["sh", "-c", "sleep 30 & echo $! > grandchild.pid; wait"], { cwd: dir, detached: true });
    const grandchild = await eventually(() => filePids(join(dir, "grandchild.pid"))[0], 10_000, "the grandchild's pid");
    expect(signalProcessGroup(leader.pid, "SIGKILL")).toBe(true);
    await leader.exited;
    await eventually(() => (isProcessAlive(grandchild) ? undefined : true), 10_000, "the grandchild to be dead");
  });
});

describe("signalChild", () => {
  test("refuses a child handle whose pid is not an integer > 1, and never calls its kill", () => {
    const calls: unknown[] = [];
    const fake = { pid: 0, kill: (signal?: unknown) => void calls.push(signal) };
    expect(thrownBy(() => signalChild(fake, "SIGSTOP"))).toMatchObject({ code: "internal", message: expect.stringContaining("refusing to send SIGSTOP to child pid 0") });
    expect(calls).toEqual([]);
  });

  test("signals a real child through its own handle", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    signalChild(child, "SIGKILL");
    await child.exited;
    expect(child.signalCode).toBe("SIGKILL");
  });
});

describe("a pid read from a file while it is being written (the test-suite freeze)", () => {
  test("is refused, so the reader's process group is never stopped", async () => {
    const dir = tempDir("vilano-freeze-");
    const script = join(dir, "reader.ts");
    // The old reading: the file exists (appendFileSync creates it before it writes) but is empty;
    // "".trim().split("\n") is [""], and Number("") is 0 — kill(0, SIGSTOP) stops the whole group.
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from "node:fs";
import { signalProcess } from ${JSON.stringify(HELPER)};
writeFileSync("pid.log", "");
const pid = Number(readFileSync("pid.log", "utf8").trim().split("\\n")[0]);
try {
  signalProcess(pid, "SIGSTOP");
  console.log("sent");
} catch (error) {
  console.log(String((error as Error).message));
  process.exit(3);
}
`,
    );
    // Its own process group: if the signal went out, only the reader would stop, never this test run.
    const reader = Bun.spawn([process.execPath, script], { cwd: dir, detached: true, stdout: "pipe", stderr: "inherit" });
    try {
      const outcome = await eventually(() => (reader.exitCode !== null ? "exited" : processStateLetter(reader.pid) === "T" ? "stopped" : undefined), 20_000, "the reader to exit or stop");
      expect(outcome).toBe("exited");
      expect(reader.exitCode).toBe(3);
      expect(await new Response(reader.stdout).text()).toContain("refusing to send SIGSTOP to pid 0");
    } finally {
      if (reader.exitCode === null) {
        signalProcessGroup(reader.pid, "SIGKILL");
        signalProcessGroup(reader.pid, "SIGCONT");
      }
    }
  }, 30_000);
});
