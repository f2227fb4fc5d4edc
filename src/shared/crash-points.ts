/**
 * Named crash points for fault tests (the idea of DBOS's debug points): a seam in the code calls
 * `crashPoint("before_commit")`, and a process started with `VILANO_CRASH_AT=before_commit@3`
 * kills itself with SIGKILL the third time it passes there — nothing after it runs (no `finally`,
 * no flush), exactly as if the machine had lost it at that instant. A fault test then restarts
 * without the variable and checks that nothing acknowledged was lost and nothing recorded twice.
 *
 * Off by default: until `armCrashPoints` is given a plan (the daemon does at start, from
 * `loadCrashPlan` in config.ts — the one module that reads the environment), a point costs one
 * comparison. The names are a closed list, so a typo in the variable is refused at start rather
 * than silently never crashing.
 *
 * @example
 * armCrashPoints(parseCrashAt("after_commit@2"));
 * crashPoint("after_commit"); // passes
 * crashPoint("after_commit"); // writes "crash point after_commit" on stderr, then SIGKILL
 */
import { writeSync } from "node:fs";
import { VilanoError } from "./errors.ts";
import { signalProcess } from "./signal-process.ts";

/** Every seam a fault test can kill at, and what has (and has not) happened there. */
export const CRASH_POINTS = {
  /** Group commit: the batch's commands and finishers ran in the open transaction; COMMIT not yet sent. */
  before_commit: "before the store's COMMIT of a group-commit batch",
  /** Group commit: COMMIT returned; no caller resolved, no post-commit effect run. */
  after_commit: "right after a group-commit batch committed, before its callers hear of it",
  /** Worker pool (daemon side): a worker's report is committed; the reply to the worker not yet sent. */
  after_worker_report: "after a worker's report is committed, before the reply goes back to the worker",
} as const;

export type CrashPointName = keyof typeof CRASH_POINTS;

/** Which point to crash at, and on which pass of it (1 = the first). */
export interface CrashPlan {
  readonly point: CrashPointName;
  readonly pass: number;
}

const isCrashPoint = (name: string): name is CrashPointName => Object.hasOwn(CRASH_POINTS, name);

/**
 * `<point>[@<n>]` → a plan; a name that is not a declared point, or a pass that is not a whole
 * number ≥ 1, is refused with an error naming the variable and the known points.
 */
export function parseCrashAt(text: string): CrashPlan {
  const match = /^([a-z_]+)(?:@(\d{1,9}))?$/.exec(text);
  const known = Object.keys(CRASH_POINTS).join(", ");
  if (!match) {
    throw new VilanoError("validation_failed", `invalid environment variable VILANO_CRASH_AT: ${JSON.stringify(text)} is not <point>[@<n>] (points: ${known})`, {
      details: { field: "VILANO_CRASH_AT" },
    });
  }
  const [, point, passText] = match;
  if (!isCrashPoint(point!)) {
    throw new VilanoError("validation_failed", `invalid environment variable VILANO_CRASH_AT: no crash point named ${JSON.stringify(point)} (points: ${known})`, {
      details: { field: "VILANO_CRASH_AT" },
    });
  }
  const pass = passText === undefined ? 1 : Number(passText);
  if (pass < 1) {
    throw new VilanoError("validation_failed", `invalid environment variable VILANO_CRASH_AT: the pass after @ must be at least 1, got ${passText}`, {
      details: { field: "VILANO_CRASH_AT" },
    });
  }
  return { point, pass };
}

/** The armed point (null: every crash point is a no-op) and how many times it has been passed. */
let armed: CrashPointName | null = null;
let passesLeft = 0;

/** Arms one point for this process (null disarms); the daemon arms `loadCrashPlan()` at start. */
export function armCrashPoints(plan: CrashPlan | null): void {
  armed = plan?.point ?? null;
  passesLeft = plan?.pass ?? 0;
}

/** A seam a fault test may kill this process at (see the header). */
export function crashPoint(name: CrashPointName): void {
  if (armed !== name) return;
  if (--passesLeft > 0) return;
  // Written synchronously before the kill: the test reads it to know the process died here.
  writeSync(2, `crash point ${name}\n`);
  signalProcess(process.pid, "SIGKILL");
  // kill(2) of oneself with SIGKILL does not return to this code; should it ever, go down loudly
  // (SIGABRT, which the test refuses) rather than carry on past the point.
  process.abort();
}
