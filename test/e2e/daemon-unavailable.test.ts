/**
 * A daemon that does not answer is never replaced: the CLI tells "not answering" from "not
 * running", every request has a deadline, and `daemon stop` reports the truth.
 *
 * The deadline a call kept is in its own message ("did not answer within 2s"); the wall-clock
 * bounds here only tell a kept deadline from a hang, so they are generous (≥ 10× a quiet figure of
 * the deadline plus the CLI's start, about 100 ms) and hold on a loaded machine.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { signalProcess } from "../../src/shared/index.ts";
import { BINARY } from "../helpers/binary.ts";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

const daemonJsonPid = (home: string) => (JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number }).pid;

function timed<T>(work: () => T): [T, number] {
  const started = performance.now();
  const value = work();
  return [value, performance.now() - started];
}

describe("a daemon that does not answer (built executable)", () => {
  test("SIGSTOP: a mutating call fails clearly and never starts a second daemon; after SIGCONT the same daemon serves", async () => {
    const d = testDaemon({ VILANO_WORKERS: "1" });
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    const pid = d.pid();
    expect(signalProcess(pid, "SIGSTOP")).toBe(true);
    try {
      const [started, startMs] = timed(() => d.cli("run", "start", "nope/none", "--timeout", "1s", "--json"));
      expect(started.exitCode).toBe(11);
      expect(JSON.parse(started.stdout).error).toMatchObject({ code: "daemon_unavailable", message: expect.stringContaining(`pid ${pid}`) });
      expect(startMs).toBeLessThan(12_000);
      expect(daemonJsonPid(d.home)).toBe(pid);

      const [listed, listMs] = timed(() => d.cli("run", "list", "--timeout", "2s", "--json"));
      expect(listed.exitCode).toBe(11);
      expect(JSON.parse(listed.stdout).error.message).toContain("did not answer within 2s");
      expect(listMs).toBeLessThan(22_000);

      expect(d.json("daemon", "status")).toMatchObject({ running: true, answering: false, daemon: { pid } });

      const [followed, followMs] = timed(() => d.cli("run", "logs", "some-run", "--follow", "--timeout", "2s", "--json"));
      expect(followed.exitCode).toBe(11);
      expect(JSON.parse(followed.stdout).error.message).toContain("did not answer within 2s");
      expect(followMs).toBeLessThan(22_000);
    } finally {
      signalProcess(pid, "SIGCONT");
    }
    await eventually(async () => ((await fetch(`http://127.0.0.1:${d.port}/health`).catch(() => null))?.ok ? true : undefined), 15_000, "the daemon to answer");
    expect(daemonJsonPid(d.home)).toBe(pid);
    expect(d.json("run", "list")).toMatchObject({ ok: true });
    expect(d.json("daemon", "status")).toMatchObject({ running: true, answering: true, daemon: { pid } });
  }, 90_000);

  test("two daemon starts at once both end with the one daemon that runs", async () => {
    const d = testDaemon({ VILANO_WORKERS: "1" });
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, VILANO_PORT: String(d.port), NO_COLOR: "1" };
    const starts = [0, 1].map(() => Bun.spawn([BINARY, "daemon", "start", "--json"], { env, stdout: "pipe", stderr: "pipe" }));
    const outputs = await Promise.all(starts.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text() })));
    const pid = d.pid();
    for (const { code, out } of outputs) {
      // The output with the code: a start that lost says why.
      expect({ code, out }).toMatchObject({ code: 0 });
      expect(JSON.parse(out).daemon.pid).toBe(pid);
    }
  }, 30_000);

  test("a live process holding the database is never replaced, even without daemon.json", () => {
    const d = testDaemon({ VILANO_WORKERS: "1" });
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    const pid = d.pid();
    rmSync(join(d.home, "daemon.json"));
    const again = d.cli("daemon", "start", "--json");
    expect(again.exitCode).toBe(4);
    expect(JSON.parse(again.stdout).error).toMatchObject({ code: "conflict", message: expect.stringContaining(`in use by process ${pid}`) });
    expect(isAlive(pid)).toBe(true);
  }, 30_000);

  test("daemon stop waits until the process has exited, also for a stopped daemon, and says so", () => {
    const d = testDaemon({ VILANO_WORKERS: "1" });
    expect(d.cli("daemon", "start").exitCode).toBe(0);
    const pid = d.pid();
    expect(signalProcess(pid, "SIGSTOP")).toBe(true);
    const stopped = d.json("daemon", "stop", "--grace", "5s");
    expect(stopped).toEqual({ ok: true, stopped: true, pid, forced: false });
    expect(isAlive(pid)).toBe(false);
    expect(d.json("daemon", "stop")).toEqual({ ok: true, stopped: false });
    expect(d.json("daemon", "status")).toEqual({ ok: true, running: false });
  }, 30_000);

  test("with no daemon, a read fails at once with a clear error", () => {
    const d = testDaemon();
    // A deadline far beyond the bound: failing "at once" must not mean "when the deadline ran out".
    const [listed, ms] = timed(() => d.cli("run", "list", "--timeout", "60s", "--json"));
    expect(listed.exitCode).toBe(3);
    expect(JSON.parse(listed.stdout).error.message).toContain("no vilano daemon is running");
    expect(ms).toBeLessThan(15_000);
  }, 30_000);
});
