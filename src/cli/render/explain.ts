/**
 * `run explain`: where a run is and why — what it waits for, in words, from its inspection. Each
 * open op comes with its own explanation (`waitingFor`, written by the kernel's module of that op
 * kind); this adds the run's status, process trouble, children and mail around it.
 */
import type { RunInspection } from "../../shared/index.ts";

type Inspection = Pick<RunInspection, "run" | "ops"> & Partial<Pick<RunInspection, "signals" | "queued" | "children" | "exits" | "supervision" | "worker">>;

/** What went wrong with the processes running its code, per op: hard stops and worker crashes. */
function processTrouble(i: Inspection): string[] {
  const lines: string[] = [];
  for (const op of i.ops) {
    if (op.forcedTerminations) {
      lines.push(`  - ${op.kind} "${op.name}" blocked its worker past its timeout ${op.forcedTerminations} time(s); the worker was killed each time (hard stop)`);
    }
    if (op.workerCrashes) lines.push(`  - ${op.kind} "${op.name}" ended its worker process ${op.workerCrashes} time(s) (a worker crash costs an attempt; 3 in a row fail the run)`);
  }
  if (i.run.crashes) lines.push(`  - its worker crashed ${i.run.crashes} time(s) in a row so far; the third fails it with worker_crashed`);
  return lines;
}

export function explainRun(i: Inspection): string {
  const text = explainStatus(i);
  const trouble = processTrouble(i);
  return trouble.length === 0 ? text : `${text}\n${trouble.join("\n")}`;
}

function explainStatus(i: Inspection): string {
  const { run } = i;
  const head = `${run.kind} ${run.name} ${run.id} is ${run.status}`;
  switch (run.status) {
    case "completed":
      return `${head}: it finished; \`vilano run result ${run.id}\` prints its output.`;
    case "failed":
    case "cancelled":
      return `${head}: ${run.error?.message ?? "no error recorded"}${run.error?.code ? ` (${run.error.code})` : ""}.`;
    case "stopped":
      return `${head}: it handles no more mail.`;
    case "pending":
      return `${head}: it is ready and waits for an executor slot (or for its project snapshot to load; see \`vilano daemon logs\`).`;
    case "running":
    case "active":
      return `${head}: ${runningNow(i)}`;
    case "idle":
      return `${head}: its inbox is empty.`;
  }
  const waits = i.ops.filter((op) => op.waitingFor !== undefined);
  const lines = [`${head}:`, ...waits.map((op) => `  - ${op.waitingFor}${childState(i, op.meta)}`)];
  if (waits.length === 0) lines.push("  - nothing it waits for is open; it is resumed when its mail or timers become due");
  const buffered = (i.signals ?? []).filter((s) => s.status === "buffered");
  if (buffered.length > 0) lines.push(`  buffered signals not yet consumed: ${buffered.map((s) => s.name).join(", ")}`);
  const queuedExits = (i.exits ?? []).filter((e) => e.consumedBy === undefined);
  if (queuedExits.length > 0) lines.push(`  exit events queued for ctx.nextExit(): ${queuedExits.map((e) => `${e.targetId} ${e.status}`).join(", ")}`);
  for (const g of i.supervision ?? []) {
    const live = g.members.filter((m) => m.status !== "completed");
    if (live.length > 0) lines.push(`  supervision ${g.groupKey} (${g.strategy}): ${live.map((m) => `${m.key} → ${m.runId} is ${m.status}`).join("; ")}`);
  }
  const behind = (i.queued ?? []).filter((m) => m.status !== "active");
  if (behind.length > 0) lines.push(`  ${behind.length} message(s) wait behind the current turn`);
  return lines.join("\n");
}

/** Where a leased run's code runs, and, when its worker is blocked, by what. */
function runningNow(i: Inspection): string {
  const place = i.worker;
  if (!place) return "its code is running now.";
  if (place.blockedForMs === undefined) return `its code is running now in worker ${place.pid}.`;
  const silent = `${Math.floor(place.blockedForMs / 1_000)}s`;
  const steps = place.blockedBy ?? [];
  const named = steps.map((s) => `run ${s.runId} (${s.step === undefined ? "code outside a step" : `step "${s.step}"`})`).join(" or ") || "code of no activation it holds";
  const own = steps.filter((s) => s.runId === i.run.id);
  if (own.length > 0) {
    const mine = own[0]!.step === undefined ? "its code (outside any step)" : `its step "${own[0]!.step}"`;
    const blocker = steps.length === 1 ? `${mine} is blocking worker ${place.pid}` : `worker ${place.pid} is blocked by ${named}`;
    return (
      `${blocker}: the worker has answered nothing for ${silent}. Work sent to it waits, and new work goes to spare workers. ` +
      `A step without a timeout is never stopped by the runtime: give it one, or \`vilano run cancel ${i.run.id}\` ends it.`
    );
  }
  return `it waits on worker ${place.pid}, which has answered nothing for ${silent}: it is blocked by ${named}. Its code runs once that ends (a cancel of the blocking run ends it).`;
}

/** For a wait on a child or a supervised member: its run's status as of this inspection. */
function childState(i: Inspection, meta: unknown): string {
  const m = (meta ?? {}) as { childRunId?: unknown; groupKey?: unknown; memberKey?: unknown };
  if (typeof m.childRunId === "string") {
    const child = i.children?.find((c) => c.id === m.childRunId);
    return child ? ` (the child is ${child.status})` : "";
  }
  const member = i.supervision?.find((g) => g.groupKey === m.groupKey)?.members.find((x) => x.key === m.memberKey);
  return member ? ` (its current run ${member.runId} is ${member.status})` : "";
}
