/**
 * Crash fault test: a child process runs the embedded runtime on a file database (on PostgreSQL
 * under VILANO_TEST_STORE=postgres: test/postgres-pass.txt) and is killed
 * with SIGKILL at seeded pseudo-random moments, round after round, each new child taking over the
 * same database. Afterwards a fresh runtime (this process) finishes everything, and the database is
 * checked:
 *   - `PRAGMA integrity_check` is ok;
 *   - every run a child acknowledged (`started <runId>`, printed only after `rt.start()` resolved)
 *     exists, with its input, completed with the expected output;
 *   - every run has exactly its 10 step ops (plus its sleep ops), all completed with the expected
 *     result, and exactly one `step_completed` event per op key;
 *   - every recorded step attempt appears in the marker file (at-least-once execution), and nothing
 *     ran for a run that was never committed.
 * Steps that ran more than once (re-executed after a crash) are allowed and counted.
 *
 * Reproduce a failure with the printed seed: VILANO_CRASH_SEED=<seed> bun test test/faults
 */
import { readLines } from "../helpers/lines.ts";
import { expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { signalChild } from "../../src/shared/index.ts";
import { crashPlaces } from "../helpers/crash-places.ts";
import { createRuntime, STORE_UNDER_TEST } from "../helpers/stores.ts";
import { readTables } from "../helpers/tables.ts";
import {
  crashWorkflow,
  expectedOutput,
  inputFor,
  STEPS,
  stepKey,
  stepValue,
  WORKFLOW_NAME,
  type CrashInput,
} from "./crash-workload.ts";
import { mulberry32 } from "../helpers/seeded.ts";

const SEED = Number(process.env.VILANO_CRASH_SEED ?? 0x5eed_c0de);
const ROUNDS = 32;
// PostgreSQL commits take longer (round trips): children get longer before the kill, so rounds still
// catch runs waiting on timers and not only runs being started.
const SLOWER = STORE_UNDER_TEST === "postgres" ? 4 : 1;
const KILL_DELAY_MIN_MS = 5 * SLOWER;
const KILL_DELAY_MAX_MS = 150 * SLOWER;
const READY_DEADLINE_MS = 15_000;
const FINISH_DEADLINE_MS = 20_000;
const TEST_TIMEOUT_MS = 60_000;

const ROOT = resolve(import.meta.dir, "..", "..");
const CHILD = resolve(import.meta.dir, "crash-child.ts");

interface RoundResult {
  round: number;
  childSeed: number;
  delayMs: number;
  /** Wall-clock time just before SIGKILL was sent (undefined if the child never got ready). */
  killedAt: number | undefined;
  ready: boolean;
  allStarted: boolean;
  acks: string[];
  exitCode: number | null;
  signalCode: string | number | null;
  stderr: string;
  unexpectedStdout: string[];
}

/** Spawns a child, kills it `delayMs` after it printed `ready`, and collects its acknowledgements. */
async function crashRound(round: number, childSeed: number, delayMs: number, dbPath: string, markerPath: string): Promise<RoundResult> {
  const proc = Bun.spawn([process.execPath, CHILD, dbPath, markerPath, String(childSeed)], {
    cwd: ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const stderrText = new Response(proc.stderr).text();
  const result: RoundResult = {
    round,
    childSeed,
    delayMs,
    killedAt: undefined,
    ready: false,
    allStarted: false,
    acks: [],
    exitCode: null,
    signalCode: null,
    stderr: "",
    unexpectedStdout: [],
  };
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  // A deadline, not a wait: a child that never gets ready (e.g. refused the database) fails the round.
  const readyDeadline = setTimeout(() => {
    if (!result.ready) signalChild(proc, "SIGKILL");
  }, READY_DEADLINE_MS);

  const onLine = (line: string) => {
    if (line === "ready") {
      result.ready = true;
      clearTimeout(readyDeadline);
      killTimer = setTimeout(() => {
        result.killedAt = Date.now();
        signalChild(proc, "SIGKILL");
      }, delayMs);
    } else if (line.startsWith("started ")) {
      result.acks.push(line.slice("started ".length));
    } else if (line === "all-started") {
      result.allStarted = true;
    } else {
      result.unexpectedStdout.push(line);
    }
  };
  const buffer = await readLines(proc.stdout, onLine);
  // An unterminated last line was not fully acknowledged: it does not count.
  if (buffer !== "") result.unexpectedStdout.push(`(unterminated) ${buffer}`);
  await proc.exited;
  clearTimeout(readyDeadline);
  clearTimeout(killTimer);
  result.exitCode = proc.exitCode;
  result.signalCode = proc.signalCode;
  result.stderr = await stderrText;
  return result;
}

const describeRound = (r: RoundResult) =>
  `round ${r.round} (child seed ${r.childSeed}, kill delay ${r.delayMs} ms): ready=${r.ready} acks=${r.acks.length} ` +
  `exit=${r.exitCode} signal=${r.signalCode}${r.stderr ? `\nstderr:\n${r.stderr}` : ""}` +
  `${r.unexpectedStdout.length ? `\nunexpected stdout: ${JSON.stringify(r.unexpectedStdout)}` : ""}`;

test(
  "SIGKILL at random points loses no acknowledged run and records every step exactly once",
  async () => {
    console.log(`crash fault test: seed ${SEED} (set VILANO_CRASH_SEED to reproduce), ${ROUNDS} rounds`);
    const began = performance.now();
    const { dir, dbPath, markerPath } = await crashPlaces("vilano-crash-");
    try {
      // ---- Crash rounds -------------------------------------------------------------------------
      const rand = mulberry32(SEED);
      const rounds: RoundResult[] = [];
      /** Acknowledged run id -> the input its child started it with. */
      const acked = new Map<string, CrashInput>();
      for (let round = 0; round < ROUNDS; round++) {
        const childSeed = Math.floor(rand() * 0x7fff_ffff);
        const delayMs = KILL_DELAY_MIN_MS + Math.floor(rand() * (KILL_DELAY_MAX_MS - KILL_DELAY_MIN_MS + 1));
        const r = await crashRound(round, childSeed, delayMs, dbPath, markerPath);
        rounds.push(r);
        // Every child must have got ready and died by our SIGKILL, not by an error of its own.
        if (!r.ready || r.signalCode !== "SIGKILL" || r.exitCode !== null || r.stderr !== "" || r.unexpectedStdout.length > 0) {
          throw new Error(`child did not run cleanly until killed: ${describeRound(r)}`);
        }
        r.acks.forEach((runId, k) => {
          if (acked.has(runId)) throw new Error(`run id ${runId} acknowledged twice (again in ${describeRound(r)})`);
          acked.set(runId, inputFor(childSeed, k));
        });
      }
      const crashPhaseMs = performance.now() - began;
      const killedMidLoop = rounds.filter((r) => !r.allStarted).length;
      console.log(
        `crash phase: ${rounds.length} children killed in ${(crashPhaseMs / 1000).toFixed(1)} s, ` +
          `${acked.size} runs acknowledged, ${killedMidLoop} kills landed while the child was still starting runs`,
      );
      expect(acked.size).toBeGreaterThan(0);

      // ---- Recovery: a fresh runtime (this process, never killed) finishes every run ------------
      const recoveryBegan = performance.now();
      await using rt = await createRuntime({ database: dbPath, definitions: [crashWorkflow(markerPath)], logLevel: "warn" });
      let unfinished: string[] = [];
      try {
        const all = await rt.list({ limit: 1_000_000 });
        const outcomes = await Promise.allSettled(all.map((run) => rt.result(run.id, { timeout: FINISH_DEADLINE_MS })));
        unfinished = outcomes.flatMap((o, i) =>
          o.status === "rejected" ? [`${all[i]!.id}: ${(o.reason as Error)?.message ?? String(o.reason)}`] : [],
        );
      } finally {
        await rt.close();
      }
      console.log(`recovery: reopened and finished every run in ${((performance.now() - recoveryBegan) / 1000).toFixed(1)} s`);
      expect(unfinished).toEqual([]);

      // ---- Checks on the database ---------------------------------------------------------------
      const tables = await readTables(dbPath);
      {
        expect(tables.integrity).toBe("ok");

        const runRows = tables.runs;
        const runs = new Map(runRows.map((row) => [row.id, row]));

        // Every acknowledged run exists, with the input it was started with, completed as expected.
        const problems: string[] = [];
        for (const [runId, input] of acked) {
          const row = runs.get(runId);
          if (!row) {
            problems.push(`acknowledged run ${runId} is missing from runs`);
            continue;
          }
          if (row.input === null || !Bun.deepEquals(JSON.parse(row.input), input)) {
            problems.push(`acknowledged run ${runId}: input ${row.input}, expected ${JSON.stringify(input)}`);
          }
        }
        // Every run (acknowledged or not: a child may die between commit and acknowledgement)
        // completed with the output its input and id determine.
        for (const row of runRows) {
          const input = row.input === null ? null : (JSON.parse(row.input) as CrashInput);
          if (row.name !== WORKFLOW_NAME || input === null) {
            problems.push(`run ${row.id}: unexpected name ${row.name} / input ${row.input}`);
            continue;
          }
          if (row.status !== "completed") {
            problems.push(`run ${row.id} is ${row.status}${row.error ? `: ${row.error}` : ""}`);
            continue;
          }
          const output = row.output === null ? null : JSON.parse(row.output);
          if (!Bun.deepEquals(output, expectedOutput(row.id, input))) {
            problems.push(`run ${row.id}: output ${row.output}, expected ${JSON.stringify(expectedOutput(row.id, input))}`);
          }
        }

        // Ops: exactly the 10 steps (and the sleeps of the input), all completed with the expected result.
        const opRows = tables.ops;
        const opsByRun = new Map<string, typeof opRows>();
        for (const op of opRows) {
          if (!runs.has(op.runId)) problems.push(`op ${op.opKey} belongs to unknown run ${op.runId}`);
          let list = opsByRun.get(op.runId);
          if (!list) opsByRun.set(op.runId, (list = []));
          list.push(op);
        }
        const expectedStepKeys = Array.from({ length: STEPS }, (_, i) => stepKey(i));
        for (const row of runRows) {
          const ops = opsByRun.get(row.id) ?? [];
          const steps = ops.filter((op) => op.kind === "step");
          const sleeps = ops.filter((op) => op.kind === "sleep");
          const others = ops.filter((op) => op.kind !== "step" && op.kind !== "sleep");
          if (steps.length !== STEPS || !Bun.deepEquals(steps.map((op) => op.opKey).sort(), [...expectedStepKeys].sort())) {
            problems.push(`run ${row.id} has step ops ${JSON.stringify(steps.map((op) => op.opKey))}, expected ${STEPS}`);
          }
          for (const op of steps) {
            const index = expectedStepKeys.indexOf(op.opKey);
            if (op.status !== "completed") problems.push(`run ${row.id} step ${op.opKey} is ${op.status}`);
            if (index >= 0 && op.result !== JSON.stringify(stepValue(row.id, index))) {
              problems.push(`run ${row.id} step ${op.opKey} recorded ${op.result}, expected ${JSON.stringify(stepValue(row.id, index))}`);
            }
          }
          const input = row.input === null ? null : (JSON.parse(row.input) as CrashInput);
          const sleepCount = input?.sleepAfter.length ?? 0;
          if (sleeps.length !== sleepCount || sleeps.some((op) => op.status !== "completed" || op.wakeAt !== null)) {
            problems.push(`run ${row.id} has sleep ops ${JSON.stringify(sleeps)}, expected ${sleepCount} completed ones`);
          }
          if (others.length > 0) problems.push(`run ${row.id} has unexpected ops ${JSON.stringify(others)}`);
        }

        // Events: exactly one step_completed per (run, op key), exactly ten per run, one start and
        // one completion per run.
        const opKeyOf = (body: string | null) => (body === null ? null : ((JSON.parse(body) as { opKey?: string }).opKey ?? null));
        const stepEvents = new Map<string, number>();
        for (const e of tables.events) {
          if (e.type !== "step_completed") continue;
          const key = `${e.runId} ${opKeyOf(e.body)}`;
          stepEvents.set(key, (stepEvents.get(key) ?? 0) + 1);
        }
        for (const [key, n] of stepEvents) if (n !== 1) problems.push(`run ${key.split(" ")[0]}: ${n} step_completed events for op ${key.split(" ")[1]}`);
        const eventCounts = runRows.map((r) => {
          const mine = tables.events.filter((e) => e.runId === r.id);
          const steps = mine.filter((e) => e.type === "step_completed");
          return {
            runId: r.id,
            started: mine.filter((e) => e.type === "run_started").length,
            completed: mine.filter((e) => e.type === "run_completed").length,
            steps: steps.length,
            stepKeys: new Set(steps.map((e) => opKeyOf(e.body))).size,
          };
        });
        for (const c of eventCounts) {
          if (c.started !== 1 || c.completed !== 1 || c.steps !== STEPS || c.stepKeys !== STEPS) {
            problems.push(
              `run ${c.runId}: ${c.started} run_started, ${c.completed} run_completed, ${c.steps} step_completed ` +
                `events over ${c.stepKeys} op keys (expected 1, 1, ${STEPS}, ${STEPS})`,
            );
          }
        }
        const orphanEvents = tables.events.filter((e) => !runs.has(e.runId)).length;
        if (orphanEvents > 0) problems.push(`${orphanEvents} events belong to no run`);

        // Marker file: at-least-once execution of every recorded step attempt, and nothing executed
        // for a run that was never committed.
        const markerLines = existsSync(markerPath) ? readFileSync(markerPath, "utf8").split("\n") : [];
        if (markerLines.at(-1) === "") markerLines.pop();
        const executions = new Map<string, number>();
        for (const line of markerLines) {
          const m = /^(\S+) (\d+) (\d+)$/.exec(line);
          if (!m) {
            problems.push(`malformed marker line ${JSON.stringify(line)}`);
            continue;
          }
          if (!runs.has(m[1]!)) problems.push(`marker line ${JSON.stringify(line)} is for a run that does not exist`);
          executions.set(line, (executions.get(line) ?? 0) + 1);
        }
        const perStep = new Map<string, number>();
        for (const [line, n] of executions) {
          const [runId, index] = line.split(" ");
          const key = `${runId} ${index}`;
          perStep.set(key, (perStep.get(key) ?? 0) + n);
        }
        for (const op of opRows) {
          if (op.kind !== "step") continue;
          const index = expectedStepKeys.indexOf(op.opKey);
          if (!executions.has(`${op.runId} ${index} ${op.attempt}`)) {
            problems.push(`run ${op.runId} step ${op.opKey} (attempt ${op.attempt}) is recorded but never ran (no marker line)`);
          }
        }

        const reExecuted = [...perStep.values()].filter((n) => n > 1);
        const recoveredRuns = new Set(tables.events.filter((e) => e.type === "run_recovered").map((e) => e.runId)).size;
        // Runs that were waiting on a timer when a child was killed: a run_waiting committed before a
        // kill whose next timer_fired was committed after it (by a later process).
        const killTimes = rounds.flatMap((r) => (r.killedAt === undefined ? [] : [r.killedAt]));
        const timerEvents = tables.events.filter((e) => e.type === "run_waiting" || e.type === "timer_fired");
        const sleptThroughKill = new Set<string>();
        let waitingSince: { runId: string; at: number } | undefined;
        for (const e of timerEvents) {
          if (e.type === "run_waiting") waitingSince = { runId: e.runId, at: e.at };
          else if (waitingSince && waitingSince.runId === e.runId) {
            const from = waitingSince.at;
            if (killTimes.some((t) => from <= t && t < e.at)) sleptThroughKill.add(e.runId);
            waitingSince = undefined;
          }
        }
        const unacked = runRows.filter((row) => !acked.has(row.id)).length;
        console.log(
          `checked ${runRows.length} runs (${acked.size} acknowledged, ${unacked} committed but killed before the ` +
            `acknowledgement), ${opRows.length} ops, ${markerLines.length} step executions; ` +
            `${reExecuted.length} steps ran more than once (re-executed after a crash, up to ${Math.max(0, ...reExecuted)} times); ` +
            `${recoveredRuns} runs were running and ${sleptThroughKill.size} were waiting on a timer when a child was killed`,
        );
        expect(problems.slice(0, 50)).toEqual([]);

        // The scenario must actually have happened, or the checks above prove little.
        expect(recoveredRuns).toBeGreaterThan(0);
        expect(sleptThroughKill.size).toBeGreaterThan(0);
      }
      console.log(`crash fault test took ${((performance.now() - began) / 1000).toFixed(1)} s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT_MS,
);
