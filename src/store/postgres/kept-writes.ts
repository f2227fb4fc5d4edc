/**
 * The writes of the writer's open transaction that nobody waits for, kept back and sent together:
 * a batch's new runs in one INSERT, its changes to runs in one UPDATE, its op writes in one upsert,
 * its events in one INSERT. On PostgreSQL each statement costs a round of parse, bind and execute
 * on both sides, so a batch of a few hundred commands costs a few statements instead of a thousand.
 *
 * Order is kept where it can be seen: runs, then ops (they refer to runs), then events. The runs
 * and ops kept back are sent before any statement that may read them goes on the transaction's
 * connection (`sendWrites`), so that statement sees them; new runs before any that may refer to
 * them (`sendInserts`). Events are only ever read by `listEvents`, which sends them first
 * (`sendAll`); otherwise they wait for the end of the batch.
 */
import type { NewRun, OpWrite } from "../rows.ts";

/**
 * An op write that may carry its delivery number, worked out by the cache from the run's whole op
 * list. (Its own name: a write is often made from an op row, whose `resolvedSeq` is the old one.)
 */
export type NumberedOpWrite = OpWrite & { numberGiven?: number | null };

/** The columns of a run that a change sets; a change leaves the others alone. */
export interface RunChange {
  status?: string;
  owner?: string | null;
  output?: string | null;
  error?: string | null;
  updatedAt?: number;
  finishedAt?: number | null;
  leaseFence?: number;
  wakePending?: number;
  crashes?: number;
  state?: string | null;
}

const CHANGE_COLUMNS = [
  ["status", "status", "text"],
  ["owner", "owner", "text"],
  ["output", "output", "text"],
  ["error", "error", "text"],
  ["updatedAt", "updated_at", "float8"],
  ["finishedAt", "finished_at", "float8"],
  ["leaseFence", "lease_fence", "int"],
  ["wakePending", "wake_pending", "int"],
  ["crashes", "crashes", "int"],
  ["state", "state", "text"],
] as const satisfies readonly (readonly [keyof RunChange, string, string])[];

/**
 * The rows of a statement go as one JSON text (an array of objects, `i` numbering them in the order
 * they were made): cheaper to build than an array parameter per column, which the client quotes
 * element by element.
 */
const rowsOf = (columns: string) => `json_to_recordset($1::text::json) AS r(${columns}, i int)`;

const INSERT_RUNS = `INSERT INTO runs (id, kind, name, status, input, parent_id, project, snapshot_id, created_at, updated_at)
  SELECT r.id, r.kind, r.name, r.status, r.input, r.parent_id, r.project, r.snapshot_id, r.at, r.at
  FROM ${rowsOf("id text, kind text, name text, status text, input text, parent_id text, project text, snapshot_id text, at float8")}
  ORDER BY r.i`;

/**
 * The batch's changes to runs, one row per run (its changes merged, the later over the earlier): a
 * bit per column says whether the change sets it.
 */
const UPDATE_RUNS = `UPDATE runs SET ${CHANGE_COLUMNS.map(([, column], bit) => `${column} = CASE WHEN r.sets & ${1 << bit} <> 0 THEN r.${column} ELSE runs.${column} END`).join(", ")}
  FROM ${rowsOf(`id text, sets int, ${CHANGE_COLUMNS.map(([, column, type]) => `${column} ${type}`).join(", ")}`)}
  WHERE runs.id = r.id`;

/**
 * A batch's op writes in one statement, in the order they were made. An outcome gets the next
 * delivery number of its run (replay delivers outcomes in that order), as if the writes went one by
 * one: the run's last number, read once, plus how many outcomes of that run up to it in the
 * statement get a number (an op that has one keeps it). A write can bring its number (`given`: the
 * cache worked it out from the run's whole op list); the rows of a run in one statement are then
 * all given one, for a list is only dropped by a statement, which is sent after the writes kept
 * back before it.
 */
const UPSERT_OPS = `INSERT INTO ops (run_id, op_key, seq, kind, name, status, attempt, result, error, wake_at, meta, resolved_seq, updated_at)
  SELECT o.run_id, o.op_key, o.seq, o.kind, o.name, o.status, o.attempt, o.result, o.error, o.wake_at, o.meta,
    CASE WHEN o.given IS NOT NULL THEN o.given
      WHEN o.unnumbered THEN COALESCE((SELECT MAX(resolved_seq) FROM ops WHERE run_id = o.run_id AND resolved_seq IS NOT NULL), 0)
        + SUM(o.unnumbered::int) OVER (PARTITION BY o.run_id ORDER BY o.i) END,
    o.updated_at
  FROM (
    -- A scalar subquery, looked up row by row (an EXISTS may be planned as a hash of the whole table).
    SELECT r.*, r.numbered AND (SELECT resolved_seq FROM ops WHERE run_id = r.run_id AND op_key = r.op_key) IS NULL AS unnumbered
    FROM ${rowsOf(`run_id text, op_key text, seq int, kind text, name text, status text, attempt int, result text, error text, wake_at float8,
      meta text, numbered bool, given int, updated_at float8`)}
  ) AS o
  ORDER BY o.i
  ON CONFLICT (run_id, op_key) DO UPDATE SET status = excluded.status, attempt = excluded.attempt, result = excluded.result,
    error = excluded.error, wake_at = excluded.wake_at, meta = excluded.meta,
    resolved_seq = COALESCE(ops.resolved_seq, excluded.resolved_seq), updated_at = excluded.updated_at`;

/**
 * A batch's events in one statement: each gets the next sequence number of its run, in the order
 * they were appended (a statement does not see its own rows, so the run's last number is read once).
 */
const INSERT_EVENTS = `INSERT INTO events (run_id, seq, type, body, at)
  SELECT e.run_id, COALESCE((SELECT MAX(seq) FROM events WHERE run_id = e.run_id), 0) + e.n, e.type, e.body, e.at
  FROM (SELECT r.run_id, r.type, r.body, r.at, ROW_NUMBER() OVER (PARTITION BY r.run_id ORDER BY r.i) AS n
        FROM ${rowsOf("run_id text, type text, body text, at float8")}) AS e`;

/**
 * The rows as JSON text. A string with a lone UTF-16 surrogate (half a pair: it can come from user
 * code, in a name or a key) is written as an escape PostgreSQL refuses; as a parameter it would be
 * stored with U+FFFD in its place, so here it is too. Only then are the strings gone through.
 */
function asJson(rows: readonly object[]): string {
  const text = JSON.stringify(rows);
  if (!/\\u[dD][89a-fA-F]/.test(text)) return text;
  return JSON.stringify(rows, (_key, value: unknown) => (typeof value === "string" ? value.toWellFormed() : value));
}

export interface KeptWrites {
  insertRun(run: NewRun): void;
  changeRun(id: string, change: RunChange): void;
  putOp(op: NumberedOpWrite): void;
  appendEvent(runId: string, type: string, body: string | null, at: number): void;
  /** Sends the new runs kept back: before a statement that may refer to them (foreign keys). */
  sendInserts(): void;
  /** Sends the runs and ops kept back: before any statement that may read them. */
  sendWrites(): void;
  /** Sends every write kept back (runs, ops, events), in that order: before COMMIT, and before events are read. */
  sendAll(): void;
  /** Drops what was kept back (the transaction ended). */
  clear(): void;
}

/** `send`: pipelines one statement on the open transaction's connection (its failure is told when the writes are settled). */
export function keptWrites(send: (text: string, params: unknown[]) => void): KeptWrites {
  let newRuns: NewRun[] = [];
  let changes = new Map<string, { sets: number; change: RunChange }>();
  let ops: NumberedOpWrite[] = [];
  const opKeys = new Set<string>();
  let events: { runId: string; type: string; body: string | null; at: number }[] = [];

  const sendRows = (text: string, rows: readonly object[]) => send(text, [asJson(rows.map((row, i) => ({ ...row, i })))]);
  function sendRuns(): void {
    sendInserts();
    sendChanges();
  }
  function sendInserts(): void {
    if (newRuns.length === 0) return;
    const sent = newRuns;
    newRuns = [];
    sendRows(INSERT_RUNS, sent.map((r) => ({ id: r.id, kind: r.kind, name: r.name, status: r.status, input: r.input, parent_id: r.parentId, project: r.project, snapshot_id: r.snapshotId, at: r.now })));
  }
  function sendChanges(): void {
    if (changes.size === 0) return;
    const sent = [...changes];
    changes = new Map();
    sendRows(UPDATE_RUNS, sent.map(([id, { sets, change }]) => Object.fromEntries([["id", id], ["sets", sets], ...CHANGE_COLUMNS.map(([key, column]) => [column, change[key] ?? null])])));
  }
  function sendOps(): void {
    if (ops.length === 0) return;
    const sent = ops;
    ops = [];
    opKeys.clear();
    sendRows(
      UPSERT_OPS,
      sent.map((o) => ({
        run_id: o.runId, op_key: o.opKey, seq: o.seq, kind: o.kind, name: o.name, status: o.status, attempt: o.attempt, result: o.result, error: o.error,
        wake_at: o.wakeAt, meta: o.meta, numbered: o.numberGiven === undefined && (o.status === "completed" || o.status === "failed") && !o.unseen,
        given: o.numberGiven ?? null, updated_at: o.now,
      })),
    );
  }
  function sendEvents(): void {
    if (events.length === 0) return;
    const sent = events;
    events = [];
    sendRows(INSERT_EVENTS, sent.map((e) => ({ run_id: e.runId, type: e.type, body: e.body, at: e.at })));
  }

  return {
    insertRun(run) {
      // A run inserted after a change to the same id (which changed nothing then) comes after it.
      if (changes.has(run.id)) sendRuns();
      newRuns.push(run);
    },
    changeRun(id, change) {
      // A change to a run inserted in this batch goes after its INSERT, which `sendRuns` sends first.
      let bits = 0;
      CHANGE_COLUMNS.forEach(([key], bit) => {
        if (key in change) bits |= 1 << bit;
      });
      const known = changes.get(id);
      if (known) changes.set(id, { sets: known.sets | bits, change: { ...known.change, ...change } });
      else changes.set(id, { sets: bits, change });
    },
    putOp(op) {
      // Two writes of one op cannot share an upsert: the first goes before the second is kept.
      const key = `${op.runId}\u0000${op.opKey}`;
      if (opKeys.has(key)) sendWrites();
      opKeys.add(key);
      ops.push(op);
    },
    appendEvent(runId, type, body, at) {
      events.push({ runId, type, body, at });
    },
    sendInserts,
    sendWrites,
    sendAll,
    clear() {
      newRuns = [];
      changes = new Map();
      ops = [];
      opKeys.clear();
      events = [];
    },
  };
  function sendWrites(): void {
    sendRuns();
    sendOps();
  }
  function sendAll(): void {
    sendWrites();
    sendEvents();
  }
}
