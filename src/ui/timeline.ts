/**
 * A run's ops on a time line, from its events: one row per op, with the spans it took — a step's
 * attempts, the backoff before each retry, a sleep, a wait for a signal, an ask or a child — and
 * marks where an attempt failed. Pure: the run page draws what this returns.
 *
 * A step's attempt is recorded only when it ends, so it is drawn from the event before it in the
 * run's timeline (when the code got there) or from the end of its backoff; waits are drawn from
 * the event that opened them to the one that settled them, or to now while they are open.
 */
import { OP_KINDS, OPEN_OP_STATUSES, type EventInfo, type EventType, type OpInfo, type OpStatus, type RunInspection } from "../shared/index.ts";

/** `mark`: an op that took no time of its own (connect, send, a recorded value), at its event. */
export type SpanKind = "attempt" | "backoff" | "wait" | "mark";

export interface Span {
  kind: SpanKind;
  start: number;
  end: number;
  /** Still open (drawn up to now). */
  open?: boolean;
  failed?: boolean;
  label: string;
}

export interface TimelineRow {
  opKey: string;
  kind: OpInfo["kind"];
  name: string;
  status: OpInfo["status"];
  attempts: number;
  spans: Span[];
  /** When an attempt failed. */
  failures: number[];
}

export interface Timeline {
  start: number;
  end: number;
  rows: TimelineRow[];
}

const declarations = Object.values(OP_KINDS);
const WAIT_OPENERS: ReadonlySet<EventType> = new Set(declarations.flatMap((d) => (d.waitOpener === null ? [] : [d.waitOpener])));
const ATTEMPT_ENDS: ReadonlySet<EventType> = new Set(declarations.flatMap((d) => d.attemptEnds));
const OPEN_STATUSES: ReadonlySet<OpStatus | "interrupted"> = new Set(OPEN_OP_STATUSES);

const opKeyOf = (event: EventInfo): string | undefined => (typeof event.opKey === "string" ? event.opKey : undefined);

/** Lays out the ops of `inspection` between the run's start and its end (or `now`). */
export function buildTimeline(inspection: Pick<RunInspection, "run" | "ops" | "events">, now: number): Timeline {
  const { run, ops, events } = inspection;
  const start = Math.min(run.createdAt, events[0]?.at ?? run.createdAt);
  const runEnd = run.finishedAt ?? now;
  const byOp = new Map<string, { event: EventInfo; previousAt: number }[]>();
  let previousAt = start;
  for (const event of events) {
    const key = opKeyOf(event);
    if (key !== undefined) {
      const list = byOp.get(key) ?? [];
      list.push({ event, previousAt });
      byOp.set(key, list);
    }
    previousAt = event.at;
  }
  const rows = ops.map((op) => rowOf(op, byOp.get(op.opKey) ?? [], runEnd));
  const end = Math.max(runEnd, ...rows.flatMap((row) => row.spans.map((span) => span.end)));
  return { start, end: Math.max(end, start + 1), rows };
}

function rowOf(op: OpInfo, seen: { event: EventInfo; previousAt: number }[], runEnd: number): TimelineRow {
  const spans: Span[] = [];
  const failures: number[] = [];
  let attemptFrom: number | undefined;
  let waitFrom: { at: number; label: string } | undefined;
  for (const { event, previousAt } of seen) {
    if (ATTEMPT_ENDS.has(event.type)) {
      const attempt = typeof event.attempt === "number" ? event.attempt : spans.filter((s) => s.kind === "attempt").length + 1;
      const failed = event.type.endsWith("failed");
      spans.push({ kind: "attempt", start: attemptFrom ?? previousAt, end: event.at, failed, label: `attempt ${attempt}${failed ? " failed" : ""}` });
      if (failed) failures.push(event.at);
      attemptFrom = undefined;
    } else if (event.type === "retry_scheduled") {
      const wakeAt = typeof event.wakeAt === "number" ? event.wakeAt : event.at;
      const open = op.status === "retry_wait" && wakeAt > runEnd;
      spans.push({ kind: "backoff", start: event.at, end: Math.max(event.at, open ? runEnd : wakeAt), label: `backoff before attempt ${String(event.nextAttempt ?? "")}`.trim(), ...(open ? { open } : {}) });
      attemptFrom = wakeAt;
    } else if (event.type === "timer_fired" && event.purpose === "retry") {
      attemptFrom = event.at;
    } else if (WAIT_OPENERS.has(event.type)) {
      waitFrom ??= { at: event.at, label: waitLabel(op, event) };
    } else if (waitFrom) {
      spans.push({ kind: "wait", start: waitFrom.at, end: event.at, label: waitFrom.label });
      waitFrom = undefined;
    }
  }
  if (waitFrom) {
    const open = OPEN_STATUSES.has(op.status);
    spans.push({ kind: "wait", start: waitFrom.at, end: Math.max(waitFrom.at, runEnd), label: waitFrom.label, ...(open ? { open } : {}) });
  }
  if (spans.length === 0 && seen.length > 0) spans.push({ kind: "mark", start: seen[0]!.event.at, end: seen[0]!.event.at, label: seen[0]!.event.type });
  return { opKey: op.opKey, kind: op.kind, name: op.name, status: op.status, attempts: op.attempt, spans, failures };
}

function waitLabel(op: OpInfo, opener: EventInfo): string {
  switch (opener.type) {
    case "timer_scheduled":
      return `sleep ${typeof opener.durationMs === "number" ? `${opener.durationMs} ms` : ""}`.trim();
    case "signal_wait_started":
      return `waits for signal "${op.name}"`;
    case "ask_sent":
      return `asks ${String(opener.name ?? op.name)}`;
    case "child_started":
    case "member_started":
      return `child ${String(opener.workflow ?? op.name)}`;
    case "exit_wait_started":
      return "waits for an exit event";
    default:
      return op.name;
  }
}

/** Milliseconds as a person reads them: 850 ms, 2.4 s, 3 min 5 s, 2 h 10 min. */
export function humanDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${Math.round((ms % 60_000) / 1_000)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
