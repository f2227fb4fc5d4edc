/**
 * Crash points: the built daemon (`dist/vilano daemon run`) kills itself with SIGKILL at a named
 * seam (`VILANO_CRASH_AT=<point>@<n>`, src/shared/crash-points.ts) while one run takes its steps
 * one after another on one worker; a daemon started again without the variable finishes the run.
 * Each step appends `<run> <step> <daemon pid>` to a marker file before it returns, so the file
 * tells which daemon's worker ran which step. With one run on one worker every group-commit batch
 * during the steps is one step's report, and the last step the first daemon ran is the one the
 * crash caught:
 *   - before_commit: its report was in the batch that never committed — it is not recorded after
 *     the crash, and it runs again under the second daemon (at least once);
 *   - after_commit, after_worker_report: its report committed though the worker never heard —
 *     it is recorded after the crash and never runs again (no more than once).
 * And for every point: the daemon died by SIGKILL having written `crash point <name>`, the
 * acknowledged run exists once and completes, every step is recorded exactly once, no step whose
 * completion was committed ran again, and the database passes `integrity_check`.
 * (test/faults/crash-recovery.test.ts kills at seeded random times instead.)
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "../../src/client/index.ts";
import { signalChild, type CrashPointName } from "../../src/shared/index.ts";
import { BINARY } from "../helpers/binary.ts";
import { testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { resolveDatabase, STORE_UNDER_TEST, tempDatabase } from "../helpers/stores.ts";
import { readTables } from "../helpers/tables.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const STEPS = 20;
const RUN_ID = "marked-1";
const STARTED_MS = 60_000;
const DEATH_MS = 90_000;
const FINISH_MS = 90_000;
const TEST_TIMEOUT_MS = 300_000;

/**
 * Which pass of each point to die at: past the daemon's start-up batches and the run's start,
 * well before its last step (the test checks the kill landed mid-run, and says so if it did not).
 */
const CASES: { point: CrashPointName; pass: number; committed: boolean }[] = [
  { point: "before_commit", pass: 9, committed: false },
  { point: "after_commit", pass: 9, committed: true },
  { point: "after_worker_report", pass: 6, committed: true },
];

interface Mark {
  runId: string;
  step: number;
  daemon: number;
}

function marks(path: string): Mark[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => {
      const m = /^(\S+) (\d+) (\d+)$/.exec(line);
      if (!m) throw new Error(`malformed marker line ${JSON.stringify(line)}`);
      return { runId: m[1]!, step: Number(m[2]), daemon: Number(m[3]) };
    });
}

/** The workflow: STEPS steps, each marking which daemon's worker ran it (read once at import: a worker's parent is its daemon). */
function markedProject(markerPath: string): string {
  return writeProject({
    "src/marked.ts": `import { appendFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";
const daemon = process.ppid;
export const marked = workflow({
  name: "marked",
  run: async (_input: void, ctx) => {
    let sum = 0;
    for (let i = 0; i < ${STEPS}; i++) {
      sum += await ctx.step(\`s\${i}\`, () => {
        appendFileSync(${JSON.stringify(markerPath)}, \`\${ctx.runId} \${i} \${daemon}\\n\`);
        return i;
      });
    }
    return sum;
  },
});
`,
  });
}

/** `daemon run` of the built executable with the crash point armed, in the test daemon's home and environment. */
function spawnArmedDaemon(d: TestDaemon, crashAt: string) {
  return Bun.spawn([BINARY, "daemon", "run", "--port", String(d.port)], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, NO_COLOR: "1", TZ: "UTC", ...d.env, VILANO_CRASH_AT: crashAt },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
}

/** daemon.json names the armed daemon (a file being written is read again later). */
function armedDaemonAnswers(d: TestDaemon, pid: number): boolean {
  try {
    return existsSync(join(d.home, "daemon.json")) && d.pid() === pid;
  } catch {
    return false;
  }
}

/** Resolves with the exit, or with null once `ms` have passed (the process still running). */
async function exitWithin(proc: ReturnType<typeof Bun.spawn>, ms: number): Promise<number | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([proc.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

const stepsOf = (list: Mark[]) => [...new Set(list.map((m) => m.step))].sort((x, y) => x - y);
const upTo = (n: number) => Array.from({ length: n + 1 }, (_, i) => i);

test("a VILANO_CRASH_AT that names no crash point stops the daemon from starting, naming the variable", () => {
  const d = testDaemon({ VILANO_CRASH_AT: "before_comit" });
  const start = d.cli("daemon", "start");
  expect(start.exitCode).toBe(2);
  expect(start.stderr).toContain('invalid environment variable VILANO_CRASH_AT: no crash point named "before_comit" (points: before_commit, after_commit, after_worker_report)');
}, 60_000);

for (const { point, pass, committed } of CASES) {
  test(
    `SIGKILL at ${point}: the daemon dies there, and the next one finishes the run with every step recorded once` +
      (committed ? " and the caught step never run again" : " and the caught step run again"),
    async () => {
      const markerPath = join(tempDir("vilano-marks-"), "marks.log");
      const database = STORE_UNDER_TEST === "postgres" ? (await resolveDatabase(tempDatabase()))! : null;
      const d = testDaemon({ VILANO_WORKERS: "1", ...(database ? { VILANO_DATABASE_URL: database, VILANO_DAEMON_LEASE: "2s" } : {}) });
      const tablesOf = () => readTables(database ?? join(d.home, "runtime.sqlite"));

      // The project is registered by a daemon without the variable, so its batches count for nothing.
      expect(d.cli("project", "add", markedProject(markerPath), "--name", "marks").exitCode).toBe(0);
      expect(d.json<{ stopped: boolean }>("daemon", "stop")).toMatchObject({ stopped: true });

      const armed = spawnArmedDaemon(d, `${point}@${pass}`);
      const stderr = new Response(armed.stderr).text();
      let stdout = "";
      void new Response(armed.stdout).text().then((text) => (stdout = text));
      try {
        await eventually(() => (armedDaemonAnswers(d, armed.pid) ? true : undefined), STARTED_MS, "the armed daemon to start");
        const client = createClient({ home: d.home, timeout: "30s" });
        const started = await client.runs.start("marks/marked", undefined, { id: RUN_ID });
        expect(started).toMatchObject({ id: RUN_ID, created: true });

        const exit = await exitWithin(armed, DEATH_MS);
        const said = await (exit === null ? Promise.resolve("(still running)") : stderr);
        if (exit === null || armed.signalCode !== "SIGKILL" || !said.split("\n").includes(`crash point ${point}`)) {
          throw new Error(
            `the daemon did not die at crash point ${point} (pass ${pass}): exit ${exit}, signal ${armed.signalCode}, ` +
              `${marks(markerPath).length} steps run\nstderr:\n${said}\nstdout:\n${stdout}`,
          );
        }
      } finally {
        if (armed.exitCode === null && armed.signalCode === null) signalChild(armed, "SIGKILL");
      }
      const firstDaemon = armed.pid;

      // ---- What the crash left ----------------------------------------------------------------
      const afterCrash = await tablesOf();
      expect(afterCrash.integrity).toBe("ok");
      expect(afterCrash.runs.map((r) => r.id)).toEqual([RUN_ID]);
      const recordedThen = stepsOf(
        afterCrash.events.filter((e) => e.type === "step_completed").map((e) => ({ runId: e.runId, step: Number(/"opKey":"step:s(\d+):/.exec(e.body ?? "")?.[1]), daemon: 0 })),
      );
      const ranThen = stepsOf(marks(markerPath).filter((m) => m.daemon === firstDaemon));
      const caught = ranThen.at(-1);
      // The kill must land mid-run, or the checks below prove little.
      if (caught === undefined || caught >= STEPS - 1) {
        throw new Error(`the crash at ${point}@${pass} did not land mid-run: the first daemon ran steps ${JSON.stringify(ranThen)} of ${STEPS}`);
      }
      console.log(`${point}@${pass}: the first daemon died during step ${caught} of ${STEPS}; steps recorded then: ${recordedThen.length}`);
      expect(ranThen).toEqual(upTo(caught));
      // The caught step's report: lost with the batch before COMMIT, kept after it.
      expect(recordedThen).toEqual(committed ? upTo(caught) : upTo(caught - 1));

      // ---- A daemon without the variable finishes the run ---------------------------------------
      expect(d.cli("daemon", "start").exitCode).toBe(0);
      const client = createClient({ home: d.home, timeout: "30s" });
      expect(await client.runs.result(RUN_ID, { timeout: `${FINISH_MS / 1000}s` })).toBe((STEPS * (STEPS - 1)) / 2);
      const { events } = (await client.runs.inspect(RUN_ID)) as { events: { type: string; opKey?: string }[] };
      const completed = events.filter((e) => e.type === "step_completed").map((e) => e.opKey);
      expect(completed).toHaveLength(STEPS);
      expect(new Set(completed).size).toBe(STEPS);
      expect(events.filter((e) => e.type === "run_started")).toHaveLength(1);
      expect((await client.runs.list({ project: "marks", limit: 100 })).map((r) => r.id)).toEqual([RUN_ID]);
      expect(d.json<{ stopped: boolean }>("daemon", "stop")).toMatchObject({ stopped: true });

      const all = marks(markerPath);
      const ranAgain = stepsOf(all.filter((m) => m.daemon !== firstDaemon));
      // Every step ran; none whose completion had committed ran again; each ran at most twice.
      expect(stepsOf(all)).toEqual(upTo(STEPS - 1));
      expect(ranAgain.filter((step) => recordedThen.includes(step))).toEqual([]);
      for (let step = 0; step < STEPS; step++) expect(all.filter((m) => m.step === step).length).toBeLessThanOrEqual(2);
      expect(ranAgain.includes(caught)).toBe(!committed);
      expect((await tablesOf()).integrity).toBe("ok");
    },
    TEST_TIMEOUT_MS,
  );
}
