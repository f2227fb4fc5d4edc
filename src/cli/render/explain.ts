/**
 * `run explain`: where a run is and why — what it waits for, in words, from its inspection.
 */
interface Op {
  opKey: string;
  kind: string;
  name: string;
  status: string;
  attempt: number;
  wakeAt?: number;
  error?: { message?: string };
  meta?: { serviceRunId?: string; timeoutMs?: number | null };
  forcedTerminations?: number;
  workerCrashes?: number;
}

interface Inspection {
  run: { id: string; kind: string; name: string; status: string; error?: { message?: string; code?: string }; crashes?: number };
  ops: Op[];
  signals?: { name: string; status: string }[];
  queued?: { id: number; kind: string; name: string; status: string; wakeAt?: number }[];
}

const when = (at: number | undefined, now: number) =>
  at === undefined ? "" : at <= now ? " (due now)" : ` in ${Math.round((at - now) / 1000)}s, at ${new Date(at).toISOString()}`;

function explainWait(op: Op, now: number): string {
  switch (op.status === "retry_wait" ? "retry" : op.kind) {
    case "retry":
      return `${op.kind} "${op.name}" failed on attempt ${op.attempt} (${op.error?.message ?? "error"}); attempt ${op.attempt + 1} runs${when(op.wakeAt, now)}`;
    case "sleep":
      return `sleeping (${op.opKey}); wakes${when(op.wakeAt, now)}`;
    case "signal":
      return `waiting for signal "${op.name}"${op.wakeAt ? `; gives up${when(op.wakeAt, now)}` : " (no timeout)"} — send it with \`vilano signal send <run> ${op.name}\``;
    case "ask":
      return `waiting for the reply to ${op.name} from ${op.meta?.serviceRunId ?? "a service"}${op.wakeAt ? `; times out${when(op.wakeAt, now)}` : ""}`;
    default:
      return `waiting on ${op.opKey} (${op.kind})`;
  }
}

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

export function explainRun(i: Inspection, now = Date.now()): string {
  const text = explainStatus(i, now);
  const trouble = processTrouble(i);
  return trouble.length === 0 ? text : `${text}\n${trouble.join("\n")}`;
}

function explainStatus(i: Inspection, now: number): string {
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
      return `${head}: its code is running now.`;
    case "idle":
      return `${head}: its inbox is empty.`;
  }
  const waits = i.ops.filter((op) => op.status === "waiting" || op.status === "retry_wait");
  const lines = [`${head}:`, ...waits.map((op) => `  - ${explainWait(op, now)}`)];
  if (waits.length === 0) lines.push("  - nothing it waits for is open; it is resumed when its mail or timers become due");
  const buffered = (i.signals ?? []).filter((s) => s.status === "buffered");
  if (buffered.length > 0) lines.push(`  buffered signals not yet consumed: ${buffered.map((s) => s.name).join(", ")}`);
  const behind = (i.queued ?? []).filter((m) => m.status !== "active");
  if (behind.length > 0) lines.push(`  ${behind.length} message(s) wait behind the current turn`);
  return lines.join("\n");
}
