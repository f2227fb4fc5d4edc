/**
 * `ctx.exec` through the daemon of the built executable: the subprocess runs in a worker, its
 * output is captured under the runtime home and shown by `run logs --follow` as it comes.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY } from "../helpers/binary.ts";
import { testDaemon } from "../helpers/daemon.ts";
import { readLines } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "exec-flows.ts"), "utf8");

test("run logs --follow shows a subprocess's output as it comes; it is captured under the home", async () => {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "ex").exitCode).toBe(0);
  d.pid();
  const { run } = d.json<{ run: { id: string } }>("run", "start", "ex/talk");

  const follow = Bun.spawn([BINARY, "run", "logs", run.id, "--follow"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, VILANO_PORT: String(d.port), NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const lines: string[] = [];
  const reading = readLines(follow.stdout, (line) => lines.push(line.replace(/^\S+ {2}/, "")));
  // The log line comes through the same stream, which watches subprocess output before it sends events.
  await eventually(() => (lines.includes("ready") ? true : undefined), 10_000, "the follower to connect");
  // The subprocess runs in its activation's own directory, the only one under the project's runs.
  const runs = join(d.workspaces, "ex", "runs");
  const workspace = await eventually(() => (existsSync(runs) && readdirSync(runs).length === 1 ? join(runs, readdirSync(runs)[0]!) : undefined), 10_000, "the run's workspace");
  writeFileSync(join(workspace, "go"), "");
  await eventually(() => (lines.includes("[exec:talk:0 stdout] one") ? true : undefined), 10_000, "the first line, while the process still runs");
  writeFileSync(join(workspace, "go2"), "");
  await reading;
  expect(await follow.exited).toBe(0);
  expect(lines).toEqual(["ready", "[exec:talk:0 stdout] one", "[exec:talk:0 stderr] two", "[exec:talk:0 stdout] three"]);

  const captures = join(d.home, "captures", encodeURIComponent(run.id), `${encodeURIComponent("exec:talk:0")}.1`);
  expect(readFileSync(join(captures, "stdout"), "utf8")).toBe("one\nthree\n");
  expect(readFileSync(join(captures, "stderr"), "utf8")).toBe("two\n");
  const inspection = d.json<{ ops: { kind: string; meta: { captures: string } }[] }>("run", "inspect", run.id);
  expect(join(d.home, inspection.ops.find((op) => op.kind === "exec")!.meta.captures)).toBe(captures);
  expect(d.cli("run", "logs", run.id).stdout.split("\n").slice(1).join("\n")).toBe("[exec:talk:0 stdout] one\n[exec:talk:0 stdout] three\n[exec:talk:0 stderr] two\n");
}, 30_000);
