/**
 * The writes of the writer's open transaction that nobody waits for, kept back and sent together:
 * a batch's new runs in one INSERT, its changes to runs in one UPDATE, its op writes in one upsert,
 * its events in one INSERT. On PostgreSQL each statement costs a round of parse, bind and execute
 * on both sides, so a batch of a few hundred commands costs a few statements instead of a thousand.
 *
 * Order is kept where it can be seen: runs, then ops (they refer to runs), then events; and all of
 * runs and ops are sent before any other statement goes on the transaction's connection
 * (`sendWrites`), so that statement sees them. Events are only ever read by `listEvents`, which
 * sends them first (`sendAll`); otherwise they wait for the end of the batch.
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

const INSERT_RUNS = `INSERT INTO runs (id, kind, name, status, input, parent_id, project, snapshot_id, created_at, updated_at)
  SELECT r.id, r.kind, r.name, r.status, r.input, r.parent_id, r.project, r.snapshot_id, r.at, r.at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::float8[])
    WITH ORDINALITY AS r(id, kind, name, status, input, parent_id, project, snapshot_id, at, i)
  ORDER BY r.i`;

/**
 * The batch's changes to runs, one row per run (its changes merged, the later over the earlier): a
 * bit per column says whether the change sets it.
 */
const UPDATE_RUNS = `UPDATE runs SET ${CHANGE_COLUMNS.map(([, column], bit) => `${column} = CASE WHEN c.sets & ${1 << bit} <> 0 THEN c.${column} ELSE runs.${column} END`).join(", ")}
  FROM unnest($1::text[], $2::int[], ${CHANGE_COLUMNS.map(([, , type], i) => `$${i + 3}::${type}[]`).join(", ")})
    AS c(id, sets, ${CHANGE_COLUMNS.map(([, column]) => column).join(", ")})
  WHERE runs.id = c.id`;

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
    SELECT u.*, u.numbered AND NOT EXISTS (SELECT FROM ops WHERE run_id = u.run_id AND op_key = u.op_key AND resolved_seq IS NOT NULL) AS unnumbered
    FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::int[], $8::text[], $9::text[], $10::float8[],
                $11::text[], $12::bool[], $13::int[], $14::float8[])
      WITH ORDINALITY AS u(run_id, op_key, seq, kind, name, status, attempt, result, error, wake_at, meta, numbered, given, updated_at, i)
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
  FROM (SELECT run_id, type, body, at, ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY i) AS n
        FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) WITH ORDINALITY AS t(run_id, type, body, at, i)) AS e`;

export interface KeptWrites {
  insertRun(run: NewRun): void;
  changeRun(id: string, change: RunChange): void;
  putOp(op: NumberedOpWrite): void;
  appendEvent(runId: string, type: string, body: string | null, at: number): void;
  /** Sends the runs and ops kept back: before any other statement, which must see them. */
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

  const column = <T, V>(rows: readonly T[], pick: (row: T) => V): V[] => rows.map(pick);
  function sendRuns(): void {
    if (newRuns.length > 0) {
      const sent = newRuns;
      newRuns = [];
      send(INSERT_RUNS, [
        column(sent, (r) => r.id), column(sent, (r) => r.kind), column(sent, (r) => r.name), column(sent, (r) => r.status), column(sent, (r) => r.input),
        column(sent, (r) => r.parentId), column(sent, (r) => r.project), column(sent, (r) => r.snapshotId), column(sent, (r) => r.now),
      ]);
    }
    if (changes.size > 0) {
      const sent = [...changes];
      changes = new Map();
      send(UPDATE_RUNS, [
        column(sent, ([id]) => id),
        column(sent, ([, c]) => c.sets),
        ...CHANGE_COLUMNS.map(([key]) => column(sent, ([, c]) => c.change[key] ?? null)),
      ]);
    }
  }
  function sendOps(): void {
    if (ops.length === 0) return;
    const sent = ops;
    ops = [];
    opKeys.clear();
    send(UPSERT_OPS, [
      column(sent, (o) => o.runId), column(sent, (o) => o.opKey), column(sent, (o) => o.seq), column(sent, (o) => o.kind), column(sent, (o) => o.name),
      column(sent, (o) => o.status), column(sent, (o) => o.attempt), column(sent, (o) => o.result), column(sent, (o) => o.error), column(sent, (o) => o.wakeAt),
      column(sent, (o) => o.meta), column(sent, (o) => o.numberGiven === undefined && (o.status === "completed" || o.status === "failed") && !o.unseen),
      column(sent, (o) => o.numberGiven ?? null), column(sent, (o) => o.now),
    ]);
  }
  function sendEvents(): void {
    if (events.length === 0) return;
    const sent = events;
    events = [];
    send(INSERT_EVENTS, [column(sent, (e) => e.runId), column(sent, (e) => e.type), column(sent, (e) => e.body), column(sent, (e) => e.at)]);
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
