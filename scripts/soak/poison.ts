/**
 * The poison mixed into a round, in seeded proportions: runs that kill their shared worker (with
 * ordinary `dwell` runs in a step beside them), values and log lines over the value cap, and
 * untimed loops that the soak cancels in the next round, after that round's runs were checked with
 * the loops still spinning (so blocked workers show as blocked runs).
 */
import type { VilanoClient } from "../../src/client/index.ts";
import type { Expectation } from "./judge.ts";

const MIB = 1024 * 1024;

export interface PoisonPlan {
  neighbourKills: number;
  /** Ordinary runs that sit in a step for `ms`; they complete with `n + 1`. */
  dwells: { ms: number; n: number }[];
  /** Sizes of step results over the cap. */
  hugeValues: number[];
  /** Sizes of log lines over the cap. */
  bigLogs: number[];
  loops: number;
}

/** Oversized values: usually one of the cap plus 1 MiB; one time in six, `big` of 64–96 MiB at once. */
function oversized(pick: (lo: number, hi: number) => number, cap: number, big: number): number[] {
  return pick(1, 6) === 1 ? Array.from({ length: big }, () => pick(64, 96) * MIB) : [cap + MIB];
}

/**
 * This round's poison. Each kind comes in a share of the rounds: neighbour kills 30 % (1–3 of
 * them, with 3–6 dwelling runs), step results over the cap 20 % (two at once when 64–96 MiB: one
 * that size took main's daemon from ~100 to ~400 MiB), log lines over the cap 10 %, untimed
 * loops 15 % (1–3: enough to hold every worker of a two-worker pool).
 */
export function planPoison(random: () => number, cap: number): PoisonPlan {
  const pick = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const plan: PoisonPlan = { neighbourKills: 0, dwells: [], hugeValues: [], bigLogs: [], loops: 0 };
  if (random() < 0.3) {
    plan.neighbourKills = pick(1, 3);
    for (let i = pick(3, 6); i > 0; i--) plan.dwells.push({ ms: pick(200, 1500), n: pick(0, 1000) });
  }
  if (random() < 0.2) plan.hugeValues = oversized(pick, cap, 2);
  if (random() < 0.1) plan.bigLogs = oversized(pick, cap, 1);
  if (random() < 0.15) plan.loops = pick(1, 3);
  return plan;
}

export interface PoisonLedger {
  /** Ordinary runs acknowledged: id → workflow and expected output. */
  runs: Map<string, { workflow: string; output: unknown }>;
  /** Poison runs acknowledged whose end can be checked: id → workflow and expected end. */
  poison: Map<string, { workflow: string; expected: Expectation }>;
  /** Loop runs asked for (acknowledged or not: an unanswered start may still have made one) and not cancelled yet. */
  loops: Set<string>;
  started: { neighbourKills: number; hugeValues: number; bigLogs: number; loops: number; dwells: number };
}

/** Starts the plan's runs; each promise settles when its start was answered (or refused). */
export function startPoison(client: VilanoClient, ledger: PoisonLedger, round: number, plan: PoisonPlan): Promise<unknown>[] {
  const pending: Promise<unknown>[] = [];
  const start = (id: string, workflow: string, input: unknown, onAcknowledged: () => void) =>
    pending.push(client.runs.start(`soak/${workflow}`, input, { id }).then(onAcknowledged, () => {}));
  const poison = (id: string, workflow: string, input: unknown, expected: Expectation, count: keyof PoisonLedger["started"]) =>
    start(id, workflow, input, () => (ledger.poison.set(id, { workflow, expected }), ledger.started[count]++));

  plan.dwells.forEach(({ ms, n }, i) => start(`r${round}-dwell${i}`, "dwell", { ms, n }, () => (ledger.runs.set(`r${round}-dwell${i}`, { workflow: "dwell", output: n + 1 }), ledger.started.dwells++)));
  for (let i = 0; i < plan.neighbourKills; i++) poison(`r${round}-kill${i}`, "neighbour-kill", undefined, { kind: "worker_crashed" }, "neighbourKills");
  plan.hugeValues.forEach((bytes, i) => poison(`r${round}-huge${i}`, "huge-value", { bytes }, { kind: "value_too_large" }, "hugeValues"));
  plan.bigLogs.forEach((bytes, i) => poison(`r${round}-log${i}`, "big-log", { bytes }, { kind: "value_too_large" }, "bigLogs"));
  for (let i = 0; i < plan.loops; i++) {
    const id = `r${round}-loop${i}`;
    ledger.loops.add(id);
    start(id, "spin", undefined, () => ledger.started.loops++);
  }
  return pending;
}

/**
 * Cancels every loop run not cancelled yet. A cancel acknowledged (or refused because the run had
 * already ended) makes the loop a poison run to check (it must end `cancelled`); `not_found`
 * means its start never made it; any other failure leaves it for the next round. Returns the
 * failures, for the report.
 */
export async function cancelLoops(client: VilanoClient, ledger: PoisonLedger): Promise<string[]> {
  const failures: string[] = [];
  await Promise.all(
    [...ledger.loops].map(async (id) => {
      try {
        await client.runs.cancel(id, "soak: an untimed loop");
        ledger.loops.delete(id);
        ledger.poison.set(id, { workflow: "spin", expected: { kind: "cancelled" } });
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === "not_found") ledger.loops.delete(id);
        else if (code === "run_finished") {
          // It ended before any cancel (a loop cannot end by itself): checked as a loop that must
          // end cancelled, so how it did end is reported.
          ledger.loops.delete(id);
          ledger.poison.set(id, { workflow: "spin", expected: { kind: "cancelled" } });
        } else failures.push(`cancel of loop run ${id}: ${(error as Error).message}`);
      }
    }),
  );
  return failures;
}
