import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, signalProcess } from "../../src/shared/index.ts";
import { runCli } from "../helpers/binary.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";
import { freePort } from "../helpers/daemon.ts";

const home = tempDir("vilano-home-");
const port = String(freePort());
const cli = (...args: string[]) => runCli(args, { home, env: { VILANO_PORT: port } });
const pids = new Set<number>();
const daemonPid = () => (JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number }).pid;

afterAll(() => {
  for (const pid of pids) signalProcess(pid, "SIGKILL");
});

test("kill -9 of the daemon while a run sleeps: the next CLI call brings it back and the run completes", async () => {
  const project = tempDir("vilano-project-");
  mkdirSync(join(project, "src"));
  writeFileSync(
    join(project, "src", "nap.ts"),
    `import { workflow } from "@vilano/runtime";
export const nap = workflow({ name: "nap", run: async (_: void, ctx) => { await ctx.sleep("700ms"); return "rested"; } });
`,
  );
  expect(cli("init", project).exitCode).toBe(0);
  expect(cli("daemon", "start", "--port", port).exitCode).toBe(0);
  pids.add(daemonPid());
  expect(cli("project", "add", project, "--name", "napper").exitCode).toBe(0);
  const started = JSON.parse(cli("run", "start", "napper/nap", "--id", "nap-1", "--json").stdout);
  expect(started.run.id).toBe("nap-1");
  await eventually(() => (JSON.parse(cli("run", "inspect", "nap-1", "--json").stdout).run.status === "waiting" ? true : undefined), 5_000);

  const first = daemonPid();
  expect(signalProcess(first, "SIGKILL")).toBe(true);
  await eventually(() => (isProcessAlive(first) ? undefined : true), 10_000, "the daemon to die");

  // A mutating command finds the stale daemon.json, starts a new daemon, and the run finishes.
  const again = cli("run", "start", "napper/nap", "--id", "nap-1", "--json");
  expect(again.exitCode).toBe(0);
  expect(JSON.parse(again.stdout).run.created).toBe(false);
  pids.add(daemonPid());
  expect(daemonPid()).not.toBe(first);
  const result = cli("run", "result", "nap-1", "--wait", "--timeout", "10s", "--json");
  expect(JSON.parse(result.stdout)).toEqual({ ok: true, run: { id: "nap-1", status: "completed", output: "rested" } });
  const events = JSON.parse(cli("run", "replay", "nap-1", "--json").stdout).events.map((e: { type: string }) => e.type);
  expect(events.filter((t: string) => t === "timer_fired")).toHaveLength(1);
}, 30_000);
