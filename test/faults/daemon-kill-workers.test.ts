/**
 * kill -9 of the daemon while its workers run steps: no worker outlives it (they die with their
 * parent), and the restarted daemon finishes every acknowledged run with each step recorded once.
 */
import { expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../src/client/index.ts";
import { signalProcess } from "../../src/shared/index.ts";
import { isAlive, testDaemon } from "../helpers/daemon.ts";
import { filePids } from "../helpers/lines.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually } from "../helpers/temp-dir.ts";

const RUNS = 40;
const STEPS = 10;

test("kill -9 of the daemon mid-load: its workers die with it; the next daemon finishes every run, each step recorded once", async () => {
  const d = testDaemon({ VILANO_WORKERS: "2" });
  const project = writeProject({
    "src/load.ts": `import { workflow } from "@vilano/runtime";
export const tenSteps = workflow({
  name: "tenSteps",
  run: async (_input: void, ctx) => {
    let sum = 0;
    for (let i = 0; i < ${STEPS}; i++) sum += await ctx.step("add", async () => { await Bun.sleep(20); return i; });
    return sum;
  },
});
`,
  });
  expect(d.cli("project", "add", project, "--name", "load").exitCode).toBe(0);
  const first = d.pid();
  const client = createClient({ home: d.home, timeout: "10s" });
  const ids = await Promise.all(Array.from({ length: RUNS }, (_, i) => client.runs.start("load/tenSteps", undefined, { id: `load-${i}` }).then((r) => r.id)));
  // Mid-load: some steps are recorded, most are not.
  await eventually(async () => ((await client.runs.inspect(ids[RUNS - 1]!)).events.some((e) => e.type === "step_completed") ? true : undefined), 10_000, "steps to be recorded");
  const workers = (await client.status()).workers.pids;
  expect(workers.length).toBeGreaterThan(0);

  expect(signalProcess(first, "SIGKILL")).toBe(true);
  await eventually(() => (workers.every((pid) => !isAlive(pid)) && !isAlive(first) ? true : undefined), 10_000, "the workers to die with the daemon");

  expect(d.cli("daemon", "start").exitCode).toBe(0);
  expect(d.pid()).not.toBe(first);
  const after = createClient({ home: d.home, timeout: "10s" });
  for (const id of ids) expect(await after.runs.result(id, { timeout: "20s" })).toBe((STEPS * (STEPS - 1)) / 2);
  for (const id of ids) {
    const { events, ops } = (await after.runs.inspect(id)) as { events: { type: string; opKey?: string }[]; ops: { opKey: string }[] };
    const completed = events.filter((e) => e.type === "step_completed").map((e) => e.opKey);
    expect(completed).toHaveLength(STEPS);
    expect(new Set(completed).size).toBe(STEPS);
    expect(ops.filter((op) => op.opKey.startsWith("step:add:"))).toHaveLength(STEPS);
  }
  expect((await after.runs.list({ project: "load", limit: 1000 })).length).toBe(RUNS);
}, 60_000);

test("kill -9 of the daemon while a subprocess runs: the next daemon ends what the dead one left running", async () => {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  const project = writeProject({
    "src/long.ts": `import { workflow } from "@vilano/runtime";
export const long = workflow({
  name: "long",
  run: async (_input: void, ctx) => ctx.exec({ name: "long", cmd: "sh", args: ["-c", "echo $$ > long.pid; exec sleep 30"] }),
});
`,
  });
  expect(d.cli("project", "add", project, "--name", "long").exitCode).toBe(0);
  const first = d.pid();
  expect(d.cli("run", "start", "long/long").exitCode).toBe(0);
  // The subprocess runs in its activation's own directory, the only one under the project's runs.
  const runs = join(d.workspaces, "long", "runs");
  const pidFile = () => (existsSync(runs) && readdirSync(runs).length === 1 ? join(runs, readdirSync(runs)[0]!, "long.pid") : join(runs, "none"));
  const subprocess = await eventually(() => filePids(pidFile())[0], 10_000, "the subprocess");
  // The daemon notes a subprocess when its worker says it started (a moment after it did).
  const ledger = join(d.home, "exec-groups.json");
  // The daemon writes the note to a file of its own and renames it into place: every read sees a whole note.
  const noted = () => existsSync(ledger) && String(subprocess) in JSON.parse(readFileSync(ledger, "utf8"));
  await eventually(() => (noted() ? true : undefined), 10_000, "the subprocess to be noted");
  expect(signalProcess(first, "SIGKILL")).toBe(true);
  await eventually(() => (isAlive(first) ? undefined : true), 10_000, "the daemon to die");
  // Its worker died with it; the subprocess leads its own group and did not.
  expect(isAlive(subprocess)).toBe(true);
  expect(d.cli("daemon", "start").exitCode).toBe(0);
  d.pid();
  await eventually(() => (isAlive(subprocess) ? undefined : true), 10_000, "the leftover subprocess to be ended");
  // The run goes on under the new daemon with a new subprocess; a daemon that stops (not one
  // killed, as the file's cleanup does) ends it, so none outlives the test.
  expect(d.json<{ stopped: boolean }>("daemon", "stop")).toMatchObject({ stopped: true });
}, 30_000);
