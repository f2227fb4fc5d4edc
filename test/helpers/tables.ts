/**
 * The rows a fault test checks, read straight from the database with no runtime in between, from
 * a SQLite file or a PostgreSQL database alike (the same columns and field names).
 */
import { Database } from "bun:sqlite";
import { SQL } from "bun";
import { join } from "node:path";
import { openSyncStore } from "../../src/store/index.ts";

export interface Tables {
  runs: { id: string; name: string; status: string; input: string | null; output: string | null; error: string | null }[];
  ops: { runId: string; opKey: string; seq: number; kind: string; status: string; attempt: number; result: string | null; wakeAt: number | null }[];
  events: { runId: string; seq: number; type: string; body: string | null; at: number }[];
  /** SQLite's `PRAGMA integrity_check`; "ok" for PostgreSQL (which checks its pages itself). */
  integrity: string;
}

const QUERIES = {
  runs: "SELECT id, name, status, input, output, error FROM runs ORDER BY id",
  ops: `SELECT run_id AS "runId", op_key AS "opKey", seq, kind, status, attempt, result, wake_at AS "wakeAt" FROM ops ORDER BY run_id, seq`,
  events: `SELECT run_id AS "runId", seq, type, body, at FROM events ORDER BY run_id, seq`,
};

export async function readTables(database: string): Promise<Tables> {
  if (/^postgres(ql)?:\/\//.test(database)) {
    const sql = new SQL(database, { max: 1 });
    try {
      const read = async <T>(text: string) => [...((await sql.unsafe(text)) as T[])];
      return { runs: await read(QUERIES.runs), ops: await read(QUERIES.ops), events: await read(QUERIES.events), integrity: "ok" };
    } finally {
      await sql.close();
    }
  }
  const db = new Database(database, { readonly: true, strict: true });
  try {
    const integrity = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check").all().map((r) => r.integrity_check).join("; ");
    return {
      runs: db.query<Tables["runs"][number], []>(QUERIES.runs).all(),
      ops: db.query<Tables["ops"][number], []>(QUERIES.ops).all(),
      events: db.query<Tables["events"][number], []>(QUERIES.events).all(),
      integrity,
    };
  } finally {
    db.close();
  }
}

/**
 * A SQLite file holding what a PostgreSQL database holds in the tables a check reads (the same
 * schema, the same rows), so one set of checks written against SQLite reads either store. A SQLite
 * database is its own copy.
 */
export async function sqliteCopyOf(database: string, dir: string): Promise<string> {
  if (!/^postgres(ql)?:\/\//.test(database)) return database;
  const path = join(dir, `copy-${crypto.randomUUID()}.sqlite`);
  openSyncStore(path).close(); // the schema
  const sql = new SQL(database, { max: 1 });
  const db = new Database(path);
  try {
    for (const table of ["runs", "ops", "events", "signals", "messages", "run_waiters"]) {
      const rows = [...((await sql.unsafe(`SELECT * FROM ${table}`)) as Record<string, unknown>[])];
      if (rows.length === 0) continue;
      // Columns only PostgreSQL has (a run's owner among several daemons) are left out.
      const known = new Set(db.query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${table}')`).all().map((c) => c.name));
      const columns = Object.keys(rows[0]!).filter((c) => known.has(c));
      const insert = db.query(`INSERT INTO ${table} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`);
      db.transaction(() => {
        for (const row of rows) insert.run(...(columns.map((c) => row[c] ?? null) as never[]));
      })();
    }
  } finally {
    db.close();
    await sql.close();
  }
  return path;
}
