/**
 * One verification pass of the soak: every acknowledged run not checked yet is awaited (all at
 * once, within one deadline, so a pass costs the slowest run rather than the sum) and judged, its
 * history is searched for a step recorded twice, and every service instance's whole state is
 * compared with the sends acknowledged to it.
 */
import type { VilanoClient } from "../../src/client/index.ts";
import { judgeRun, type Expectation, type Figure, type Seen } from "./judge.ts";
import type { PoisonLedger } from "./poison.ts";

export interface Ledger extends PoisonLedger {
  sends: Map<string, string>; // send id → instance key
  signals: Map<string, string>; // gate run id → the id it must return (its signal was acknowledged)
  gates: Set<string>; // gate runs started, signal not acknowledged yet
}

export interface Findings {
  /** Ids (runs, sends) per failed check; a run counts once per figure however often it is checked. */
  failed: Record<Figure | "duplicated", Set<string>>;
  /** The first problem seen for each id, in the order found. */
  problems: Map<string, string>;
  /** `worker_crashed` events in the history of ordinary runs (attempts charged for a crash), for the report. */
  innocentCrashCharges: number;
}

export function emptyFindings(): Findings {
  return { failed: { lost: new Set(), quarantined: new Set(), blocked: new Set(), poison: new Set(), duplicated: new Set() }, problems: new Map(), innocentCrashCharges: 0 };
}

function note(findings: Findings, figure: Figure | "duplicated", id: string, problem: string): void {
  findings.failed[figure].add(id);
  if (!findings.problems.has(`${figure} ${id}`)) findings.problems.set(`${figure} ${id}`, problem);
}

/** The problems found, up to `each` per figure (so one kind of failure cannot hide the others). */
export function problemsByFigure(findings: Findings, each: number): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const [key, problem] of findings.problems) {
    const figure = key.slice(0, key.indexOf(" "));
    const list = (grouped[figure] ??= []);
    if (list.length < each) list.push(problem);
  }
  return grouped;
}

const CONCURRENT_CHECKS = 8;

interface Check {
  id: string;
  workflow: string;
  expected: Expectation;
  innocent: boolean;
}

/** Waits (until `deadline`) for the run to end, then reads it back. */
async function settle(client: VilanoClient, id: string, deadline: number): Promise<{ seen: Seen; events: { type: string; opKey?: unknown }[] }> {
  try {
    await client.runs.result(id, { timeout: `${Math.max(1, deadline - Date.now())}ms` });
  } catch {
    // Failed, cancelled or still running: the inspect below says which.
  }
  try {
    const { run, events } = await client.runs.inspect(id);
    return { seen: { found: true, status: run.status, output: run.output, error: run.error }, events };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { seen: { found: false, message: `${String(code ?? "error")}: ${(error as Error).message}` }, events: [] };
  }
}

/** How a pass is run: the client, how long it waits, and how a blocked run is explained. */
export interface Pass {
  client: VilanoClient;
  waitSeconds: number;
  /** What `vilano run explain` says of a run (asked of the first few blocked runs of a pass). */
  explain: (id: string) => string;
}

const EXPLAINED_PER_PASS = 3;

async function checkRun(pass: Pass, check: Check, findings: Findings, deadline: number, explained: { count: number }): Promise<void> {
  const { client, waitSeconds } = pass;
  const { seen, events } = await settle(client, check.id, deadline);
  const verdict = judgeRun(`run ${check.id} (soak/${check.workflow})`, check.expected, seen, waitSeconds);
  if (!verdict.ok) {
    const hung = verdict.figure === "blocked" || (verdict.figure === "poison" && seen.found && !["completed", "failed", "cancelled"].includes(seen.status));
    const why = hung && explained.count++ < EXPLAINED_PER_PASS ? `; run explain says: ${pass.explain(check.id)}` : "";
    note(findings, verdict.figure, check.id, verdict.problem + why);
  }
  const steps = events.filter((e) => e.type === "step_completed").map((e) => String(e.opKey));
  if (steps.length !== new Set(steps).size) note(findings, "duplicated", check.id, `run ${check.id} (soak/${check.workflow}): a step recorded twice`);
  if (check.innocent) findings.innocentCrashCharges += events.filter((e) => e.type === "worker_crashed").length;
}

/** How many sent messages the service instance failed with `worker_crashed` (0 when it cannot be read). */
async function quarantinedMessages(client: VilanoClient, instance: string): Promise<number> {
  try {
    const { events } = await client.runs.inspect(instance);
    const sends = new Set(events.filter((e) => e.type === "message_enqueued" && e.kind === "send").map((e) => e.messageId));
    return events.filter((e) => e.type === "message_failed" && e.code === "worker_crashed" && sends.has(e.messageId)).length;
  } catch {
    return 0;
  }
}

/**
 * Checks the acknowledged items not checked yet (`all`: every one again, the last pass), waiting
 * at most `waitSeconds` for runs to end; a run still going then is reported and not awaited again.
 */
export async function verify(pass: Pass, ledger: Ledger, findings: Findings, checked: Set<string>, all = false): Promise<void> {
  const { client, waitSeconds } = pass;
  const checks: Check[] = [];
  for (const [id, { workflow, output }] of ledger.runs) checks.push({ id, workflow, expected: { kind: "output", output }, innocent: true });
  for (const [id, output] of ledger.signals) checks.push({ id, workflow: "gate", expected: { kind: "output", output }, innocent: true });
  for (const [id, { workflow, expected }] of ledger.poison) checks.push({ id, workflow, expected, innocent: false });
  const todo = checks.filter((c) => all || !checked.has(c.id));
  for (const c of todo) checked.add(c.id);
  const deadline = Date.now() + waitSeconds * 1000;
  let next = 0;
  const explained = { count: 0 };
  const worker = async () => {
    while (next < todo.length) await checkRun(pass, todo[next++]!, findings, deadline, explained);
  };
  await Promise.all(Array.from({ length: CONCURRENT_CHECKS }, worker));

  const byKey = new Map<string, string[]>();
  for (const [id, key] of ledger.sends) byKey.set(key, [...(byKey.get(key) ?? []), id]);
  for (const [key, ids] of byKey) {
    let state: string[];
    let instance: string;
    try {
      const answer = await client.services.call("soak/counter", { kind: "ask", handler: "ids", keyInput: { key } });
      state = answer.reply as string[];
      instance = answer.serviceRunId;
    } catch (error) {
      // Asked again next pass. An ask quarantined for a neighbour's crash is an innocent one;
      // any other failure means a pool that cannot answer (blocked workers).
      const message = (error as Error).message;
      const figure = message.includes("worker_crashed") || message.includes("crashed 3 times") ? "quarantined" : "blocked";
      note(findings, figure, `ask ${key}`, `the ask of soak/counter ${key} (to check its sends) failed: ${message}`);
      continue;
    }
    const seen = new Map<string, number>();
    for (const id of state) seen.set(id, (seen.get(id) ?? 0) + 1);
    const missing = ids.filter((id) => !seen.has(id));
    // The counter's handlers never fail: a message it failed with `worker_crashed` was an innocent
    // one quarantined for a neighbour's crash. Such sends are counted as quarantined, not lost.
    let crashed = missing.length > 0 ? await quarantinedMessages(client, instance) : 0;
    for (const id of missing) {
      if (crashed-- > 0) note(findings, "quarantined", id, `innocent send ${id} to soak/counter ${key} quarantined: never handled, and ${instance} failed a message with worker_crashed`);
      else note(findings, "lost", id, `send ${id} to soak/counter ${key} lost`);
    }
    for (const [id, n] of seen) if (n > 1) note(findings, "duplicated", id, `send ${id} to ${key} handled ${n} times`);
  }
}
