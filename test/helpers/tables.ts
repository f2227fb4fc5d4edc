/**
 * The rows a fault test checks, read straight from the database with no runtime in between, from
 * a SQLite file or a PostgreSQL database alike (the same columns and field names).
 */
import { Database } from "bun:sqlite";
import { SQL } from "bun";

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
