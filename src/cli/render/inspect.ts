/** `run inspect`: status, input, output or error, ops with attempts, open waits, children, mailbox. */
import { formatTime, type RunInspection } from "../../shared/index.ts";

type Inspection = Pick<RunInspection, "run" | "ops"> & Partial<Pick<RunInspection, "queued" | "children" | "relationships" | "exits" | "supervision" | "trapsExits" | "subscriptions" | "turns">>;

/** How many of a service instance's latest turns the human view lists. */
const RECENT_TURNS = 10;

const show = (value: unknown) => JSON.stringify(value);
/** A value on one line, cut to fit it. */
const short = (value: unknown, max = 120) => {
  const text = show(value) ?? "undefined";
  return text.length > max ? `${text.slice(0, max)}…` : text;
};

export function renderInspection(i: Inspection): string {
  const lines = [`${i.run.kind} ${i.run.name}  ${i.run.id}`, `status  ${i.run.status}`];
  if (i.run.parentId !== undefined) lines.push(`parent  ${i.run.parentId}`);
  if (i.run.input !== undefined) lines.push(`input   ${show(i.run.input)}`);
  if (i.run.state !== undefined) lines.push(`state   ${show(i.run.state)}`);
  if (i.run.output !== undefined) lines.push(`output  ${show(i.run.output)}`);
  if (i.run.error) lines.push(`error   ${i.run.error.message ?? show(i.run.error)}`);
  if (i.ops.length > 0) {
    lines.push("ops");
    for (const op of i.ops) {
      const attempt = op.attempt > 1 ? `  attempt ${op.attempt}` : "";
      const wake = op.wakeAt ? `  until ${formatTime(op.wakeAt)}` : "";
      const forced = op.forcedTerminations ? `  ${op.forcedTerminations} hard stop${op.forcedTerminations === 1 ? "" : "s"}` : "";
      const crashes = op.workerCrashes ? `  ${op.workerCrashes} worker crash${op.workerCrashes === 1 ? "" : "es"}` : "";
      lines.push(`  ${op.opKey.padEnd(36)} ${op.status}${attempt}${wake}${forced}${crashes}`);
    }
  }
  const waits = i.ops.filter((op) => op.waitingFor !== undefined);
  if (waits.length > 0) lines.push(`waiting on ${waits.map((w) => w.opKey).join(", ")}`);
  if (i.children && i.children.length > 0) {
    lines.push("children");
    for (const c of i.children) lines.push(`  ${c.id.padEnd(48)} ${c.name} (${c.status})`);
  }
  if (i.relationships && i.relationships.length > 0) {
    lines.push(`relationships${i.trapsExits ? "  (traps exits)" : ""}`);
    for (const r of i.relationships) lines.push(`  ${r.kind.padEnd(8)} ${r.targetId}${r.kind === "link" ? ` (propagate ${r.propagate})` : ""}`);
  }
  if (i.exits && i.exits.length > 0) {
    lines.push("exit events");
    for (const e of i.exits) lines.push(`  #${e.id} ${e.targetId} ${e.status} (${e.relationship})${e.consumedBy ? ` taken by ${e.consumedBy}` : "  queued"}`);
  }
  for (const g of i.supervision ?? []) {
    lines.push(`supervision ${g.groupKey}  ${g.strategy}, ${g.recentRestarts.length}/${g.maxRestarts} restarts in ${g.windowMs} ms${g.exhausted ? "  EXHAUSTED" : ""}`);
    for (const m of g.members) lines.push(`  ${m.key.padEnd(16)} ${m.runId} (${m.status})${m.restarts ? `  restarted ${m.restarts}x` : ""}`);
  }
  if (i.subscriptions && i.subscriptions.length > 0) {
    lines.push(`subscribed to ${i.subscriptions.map((sub) => (sub.signal === sub.topic ? sub.topic : `${sub.topic} → ${sub.signal}`)).join(", ")}`);
  }
  if (i.turns && i.turns.length > 0) {
    const recent = i.turns.slice(-RECENT_TURNS);
    lines.push(`recent turns${i.turns.length > recent.length ? ` (latest ${recent.length} of ${i.turns.length})` : ""}`);
    for (const t of recent) {
      const attempt = t.attempt > 1 ? `  attempt ${t.attempt}` : "";
      const outcome = t.error ? `  ${t.error.message}` : t.reply !== undefined ? `  reply ${short(t.reply)}` : "";
      lines.push(`  #${t.id} ${t.kind} ${t.name} (${t.status})${attempt}${outcome}`);
    }
  }
  if (i.queued && i.queued.length > 0) {
    lines.push("mailbox");
    for (const m of i.queued) lines.push(`  #${m.id} ${m.kind} ${m.name} (${m.status})`);
  }
  return lines.join("\n");
}
