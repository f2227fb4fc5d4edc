/**
 * What the soak expects of each run it started, and the verdict on how the run stands when it is
 * checked. An ordinary run must complete with its output — ending `worker_crashed` means it was
 * quarantined for a neighbour's crash. A poison run must end the way its poison calls for, never
 * hang: the one that kills its own worker `worker_crashed`, a value over the cap `value_too_large`,
 * an untimed loop `cancelled` once the soak cancelled it.
 */
export type Expectation =
  | { kind: "output"; output: unknown }
  | { kind: "worker_crashed" }
  | { kind: "value_too_large" }
  | { kind: "cancelled" };

/** How a run stands, as the daemon answers `inspect` (or that it does not know it). */
export type Seen =
  | { found: false; message: string }
  | { found: true; status: string; output?: unknown; error?: { code?: string; reason?: string; message?: string } };

export type Figure = "lost" | "quarantined" | "blocked" | "poison";

export type Verdict = { ok: true } | { ok: false; figure: Figure; problem: string };

const ENDED = new Set(["completed", "failed", "cancelled"]);
const MESSAGE_CHARS = 300;

function short(text: string): string {
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
}

/** `failed (worker_crashed): the worker running … crashed 3 times in a row …` */
export function describeEnd(seen: Seen & { found: true }): string {
  if (seen.status === "completed") return `completed with output ${short(JSON.stringify(seen.output) ?? "undefined")}`;
  const error = seen.error;
  const code = error?.reason ?? error?.code;
  return `${seen.status}${code ? ` (${code})` : ""}${error?.message ? `: ${short(error.message)}` : ""}`;
}

function codeOf(seen: Seen & { found: true }): string | undefined {
  return seen.error?.reason ?? seen.error?.code;
}

/**
 * Whether the run ended for `code`: its own code, or, for a step's result over the cap (its attempt
 * fails in the worker, and the uncaught failure ends the run as `step_failed` carrying the cap's
 * message), the cap's words in the step's failure.
 */
function endedFor(seen: Seen & { found: true }, code: string): boolean {
  if (codeOf(seen) === code) return true;
  return code === "value_too_large" && seen.error?.code === "step_failed" && (seen.error.message ?? "").includes(OVER_CAP_WORDS);
}

/** What the kernel's value cap says of a value it refuses (shared/value-limit.ts). */
const OVER_CAP_WORDS = "(VILANO_MAX_VALUE_BYTES)";

/** The verdict on run `label` (its id and workflow) expected to end as `expected`, seen as `seen`. */
export function judgeRun(label: string, expected: Expectation, seen: Seen, waitedSeconds: number): Verdict {
  const poison = expected.kind !== "output";
  if (!seen.found) return { ok: false, figure: poison ? "poison" : "lost", problem: `${label}: missing (${short(seen.message)})` };
  if (!ENDED.has(seen.status)) {
    const what = poison ? `poison ${label} hangs` : `${label} is blocked`;
    return { ok: false, figure: poison ? "poison" : "blocked", problem: `${what}: still ${seen.status} after ${waitedSeconds} s` };
  }
  if (expected.kind === "output") {
    if (seen.status === "completed" && JSON.stringify(seen.output) === JSON.stringify(expected.output)) return { ok: true };
    if (seen.status === "failed" && codeOf(seen) === "worker_crashed") return { ok: false, figure: "quarantined", problem: `innocent ${label} quarantined: ${describeEnd(seen)}` };
    return { ok: false, figure: "lost", problem: `${label}: ${describeEnd(seen)}, expected completed with output ${short(JSON.stringify(expected.output) ?? "undefined")}` };
  }
  const status = expected.kind === "cancelled" ? "cancelled" : "failed";
  const matches = seen.status === status && (expected.kind === "cancelled" || endedFor(seen, expected.kind));
  if (matches) return { ok: true };
  const wanted = expected.kind === "cancelled" ? "cancelled" : `failed (${expected.kind})`;
  return { ok: false, figure: "poison", problem: `poison ${label}: ${describeEnd(seen)}, expected ${wanted}` };
}
