/**
 * Several daemons on one PostgreSQL database (each an embedded runtime with the whole kernel, in
 * a process of its own: several-daemons-child.ts). Two and four of them share the workload: every
 * run finishes, each step is recorded once, and one service instance's messages are handled in
 * the order each sender sent them. Then one daemon is killed with -9 in the middle (the others take
 * its runs over at once: its process is gone from this machine), and one is stopped with SIGSTOP
 * (taken over once its lease's time to live is out; when it goes on, what it reports is refused).
 */
import { describe, expect, test } from "bun:test";
import { SQL, type Subprocess } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileLines } from "../helpers/lines.ts";
import { freshPostgresDatabase, hasPostgres } from "../helpers/postgres.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";
import { linesOf, signalChild } from "../../src/shared/index.ts";
import { leafValue, MESSAGES, SENDERS, SINK_INSTANCE, STEPS, stepValue, WORKFLOWS, workflowRunId, type SinkState } from "./several-daemons-workload.ts";

const CHILD = join(import.meta.dir, "several-daemons-child.ts");
/** Spread runs, their leaf children, senders. */
const TOTAL_RUNS = WORKFLOWS * 2 + SENDERS;

interface Daemon {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  id: string;
  lines: AsyncGenerator<string, string>;
}

async function nextLine(d: Pick<Daemon, "lines">, prefix: string): Promise<string> {
  for (;;) {
    const { value, done } = await d.lines.next();
    if (done) throw new Error(`the daemon ended before saying "${prefix}"`);
    if (value.startsWith(prefix)) return value;
  }
}

async function startDaemon(url: string, marker: string, leaseMs: number, start = false): Promise<Daemon> {
  const proc = Bun.spawn([process.execPath, CHILD, url, marker, String(leaseMs), ...(start ? ["start"] : [])], { stdin: "ignore", stdout: "pipe", stderr: "inherit" });
  const lines = linesOf(proc.stdout);
  const ready = await nextLine({ lines }, "ready ");
  return { proc, id: ready.slice("ready ".length), lines };
}

/** Which process ran each step attempt: `<pid> <runId> <step> <attempt>` lines. */
function markers(path: string): { pid: number; runId: string; step: number }[] {
  // Complete lines only: the daemons append to the file while it is read.
  return fileLines(path)
    .filter(Boolean)
    .map((line) => {
      const [pid, runId, step] = line.split(" ");
      return { pid: Number(pid), runId: runId!, step: Number(step) };
    });
}

/** Every workflow completed, and the instance handled every message sent to it (a send does not wait for its turn). */
async function unfinished(sql: SQL): Promise<string> {
  const runs = [...(await sql`SELECT id, status, owner, lease_fence FROM runs WHERE status NOT IN ('completed', 'idle') ORDER BY id LIMIT 20`)];
  const members = [...(await sql`SELECT id, pid FROM daemons`)];
  const messages = [...(await sql`SELECT status, count(*)::int AS n FROM messages GROUP BY status`)];
  const events = runs.length === 0 ? [] : [...(await sql`SELECT run_id, seq, type, body, at FROM events WHERE run_id = ${runs[0].id} ORDER BY seq`)];
  return JSON.stringify({ runs, members, messages, events }, null, 1);
}

async function allFinished(sql: SQL): Promise<true | undefined> {
  const [row] = await sql`SELECT
      (SELECT count(*)::int FROM runs WHERE kind = 'workflow' AND status = 'completed') AS runs,
      (SELECT count(*)::int FROM messages WHERE status = 'done') AS messages`;
  return (row.runs === TOTAL_RUNS && row.messages === SENDERS * MESSAGES) || undefined;
}

/** Waits until every run finished; says what is left when they do not. */
async function untilAllFinished(sql: SQL, what: string): Promise<void> {
  await eventually(() => allFinished(sql), 30_000, what).catch(async (error: unknown) => {
    throw new Error(`${(error as Error).message}; left: ${await unfinished(sql)}`);
  });
}

/** Waits until the daemon has run some steps of the workload (so that what is done to it lands mid-run). */
const untilItRanSteps = (marker: string, d: Daemon) =>
  eventually(() => markers(marker).filter((m) => m.pid === d.proc.pid).length >= 10 || undefined, 20_000, `daemon ${d.id} to run steps`);

/** Recoveries whose event names the daemon as the one taken over from. */
const takenOverFrom = async (sql: SQL, id: string): Promise<number> =>
  (await sql`SELECT count(*)::int AS n FROM events WHERE type = 'run_recovered' AND body LIKE ${`%taken over from ${id}%`}`)[0].n;

const isMember = async (sql: SQL, id: string): Promise<boolean> => (await sql`SELECT count(*)::int AS n FROM daemons WHERE id = ${id}`)[0].n === 1;

/** What every run left in the database, checked the same after any number of daemons and kills. */
async function checkOutcome(sql: SQL): Promise<void> {
  const runs = [...(await sql`SELECT id, status, output FROM runs WHERE kind = 'workflow' ORDER BY id`)];
  expect(runs.length).toBe(TOTAL_RUNS);
  for (const run of runs) expect(run.status).toBe("completed");
  for (let i = 0; i < WORKFLOWS; i++) {
    const id = workflowRunId(i);
    const run = runs.find((r) => r.id === id)!;
    expect(JSON.parse(run.output)).toEqual([...Array.from({ length: STEPS }, (_, s) => stepValue(id, s)), leafValue(id)]);
  }
  // Each step recorded once: one completed op and one step_completed event per step (children's too).
  const steps = [...(await sql`SELECT o.run_id, o.op_key, o.status,
      (SELECT count(*)::int FROM events e WHERE e.run_id = o.run_id AND e.type = 'step_completed' AND e.body::jsonb ->> 'opKey' = o.op_key) AS recorded
    FROM ops o WHERE o.kind = 'step' AND o.run_id LIKE 'spread-%'`)];
  expect(steps.length).toBe(WORKFLOWS * (STEPS + 1));
  expect(steps.filter((s) => s.status !== "completed" || s.recorded !== 1)).toEqual([]);
  // Per-key order: the one instance saw each sender's messages in the order they were sent, once each.
  const [sink] = await sql`SELECT state FROM runs WHERE id = ${SINK_INSTANCE}`;
  const state = JSON.parse(sink.state) as SinkState;
  for (let i = 0; i < SENDERS; i++) expect(state.seen[`s${i}`]).toEqual(Array.from({ length: MESSAGES }, (_, n) => n));
  const [messages] = await sql`SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'done')::int AS done FROM messages`;
  expect(messages).toEqual({ n: SENDERS * MESSAGES, done: SENDERS * MESSAGES });
}

async function withDaemons(count: number, leaseMs: number, body: (daemons: Daemon[], sql: SQL, marker: string) => Promise<void>): Promise<void> {
  const url = await freshPostgresDatabase();
  const marker = join(tempDir(), "markers.txt");
  writeFileSync(marker, "");
  const sql = new SQL(url, { max: 2 });
  const daemons: Daemon[] = [];
  try {
    // The others first, so that they are there to claim what the last one starts.
    for (let i = 1; i < count; i++) daemons.push(await startDaemon(url, marker, leaseMs));
    daemons.unshift(await startDaemon(url, marker, leaseMs, true));
    await body(daemons, sql, marker);
  } finally {
    for (const d of daemons) signalChild(d.proc, "SIGKILL");
    await Promise.all(daemons.map((d) => d.proc.exited));
    await sql.close();
  }
}

describe.skipIf(!hasPostgres)("several daemons on one PostgreSQL database", () => {
  for (const count of [2, 4]) {
    test(`${count} daemons share the work: every run finishes, each step is recorded once, per-key order holds`, async () => {
      await withDaemons(count, 10_000, async (daemons, sql, marker) => {
        await nextLine(daemons[0]!, "started");
        await untilAllFinished(sql, "every run to finish");
        await checkOutcome(sql);
        // The daemon that started the runs heard every result, also of the runs the others ran.
        expect(await nextLine(daemons[0]!, "results")).toBe(`results ${WORKFLOWS}`);
        // The work spread: every daemon ran steps, and none ran a step that was already recorded.
        const ran = markers(marker);
        for (const d of daemons) expect(ran.some((m) => m.pid === d.proc.pid)).toBe(true);
        expect(ran.filter((m) => m.runId !== undefined).length).toBe(WORKFLOWS * (STEPS + 1));
        // Children ran on another daemon than their parent's (leased elsewhere, their ends told across).
        const elsewhere = ran.filter((m) => Number.isNaN(m.step) && ran.find((p) => m.runId === `${p.runId}~leaf`)?.pid !== m.pid);
        expect(elsewhere.length).toBeGreaterThan(0);
        const members = [...(await sql`SELECT id FROM daemons ORDER BY id`)].map((r) => r.id);
        expect(members).toEqual(daemons.map((d) => d.id).sort());
      });
    }, 60_000);
  }

  test("kill -9 of one of three daemons in the middle: the others finish its runs, and each step is still recorded once", async () => {
    await withDaemons(3, 10_000, async (daemons, sql, marker) => {
      const victim = daemons[1]!;
      await untilItRanSteps(marker, victim);
      signalChild(victim.proc, "SIGKILL");
      await victim.proc.exited;
      await untilAllFinished(sql, "every run to finish without the killed daemon");
      await checkOutcome(sql);
      expect(await takenOverFrom(sql, victim.id)).toBeGreaterThan(0);
      expect(await isMember(sql, victim.id)).toBe(false);
    });
  }, 60_000);

  test("a daemon that stops (SIGTERM) in the middle says so: the others take its runs over at once, without waiting to find it dead", async () => {
    await withDaemons(3, 10_000, async (daemons, sql, marker) => {
      const leaving = daemons[1]!;
      await untilItRanSteps(marker, leaving);
      signalChild(leaving.proc, "SIGTERM");
      expect(await leaving.proc.exited).toBe(0);
      await untilAllFinished(sql, "every run to finish");
      await checkOutcome(sql);
      // Taken over on its notice (a recovery that names no dead daemon), not found dead later.
      const [recovered] = await sql`SELECT count(*) FILTER (WHERE body IS NULL)::int AS told, count(*) FILTER (WHERE body LIKE ${`%${leaving.id}%`})::int AS found
        FROM events WHERE type = 'run_recovered'`;
      expect(recovered.found).toBe(0);
      expect(recovered.told).toBeGreaterThan(0);
      expect(await isMember(sql, leaving.id)).toBe(false);
    });
  }, 60_000);

  test("a daemon stopped with SIGSTOP loses its runs once its lease's time to live is out; when it goes on, its reports are refused", async () => {
    await withDaemons(3, 1_000, async (daemons, sql, marker) => {
      const stopped = daemons[2]!;
      await untilItRanSteps(marker, stopped);
      signalChild(stopped.proc, "SIGSTOP");
      await eventually(async () => !(await isMember(sql, stopped.id)) || undefined, 20_000, "the others to count it dead");
      signalChild(stopped.proc, "SIGCONT");
      await untilAllFinished(sql, "every run to finish");
      await checkOutcome(sql);
      expect(await takenOverFrom(sql, stopped.id)).toBeGreaterThan(0);
      // It goes on as a member again, after its old leases were fenced off.
      await eventually(async () => (await isMember(sql, stopped.id)) || undefined, 10_000, "it to join again");
    });
  }, 90_000);
});
