/** Supervision groups and their members over PostgreSQL: the same methods as the SQLite store's (`supervision-queries.ts`), with the same results. */
import type { SQL } from "bun";
import type { RunWaiterStatements, SupervisionStatements } from "../contract.ts";
import type { MemberRow, SupervisorRow } from "../rows.ts";

const SUPERVISOR_COLUMNS = `owner_id AS "ownerId", group_key AS "groupKey", strategy, max_restarts AS "maxRestarts", window_ms AS "windowMs",
  on_exhausted AS "onExhausted", restarts, exhausted, created_at AS "createdAt"`;
const MEMBER_COLUMNS = `owner_id AS "ownerId", group_key AS "groupKey", member_key AS "memberKey", position, workflow, input, run_id AS "runId",
  restarts, created_at AS "createdAt"`;

export function pgSupervisionStatements(db: () => SQL): SupervisionStatements & Pick<RunWaiterStatements, "moveRunWaiters"> {
  const one = async <T>(rows: Promise<T[]>): Promise<T | null> => (await rows)[0] ?? null;
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    insertSupervisor: async (r) =>
      void (await db()`INSERT INTO supervisors (owner_id, group_key, strategy, max_restarts, window_ms, on_exhausted, created_at)
        VALUES (${r.ownerId}, ${r.groupKey}, ${r.strategy}, ${r.maxRestarts}, ${r.windowMs}, ${r.onExhausted}, ${r.createdAt}) ON CONFLICT DO NOTHING`),
    getSupervisor: (ownerId, groupKey) => {
      const sql = db();
      return one<SupervisorRow>(sql`SELECT ${sql.unsafe(SUPERVISOR_COLUMNS)} FROM supervisors WHERE owner_id = ${ownerId} AND group_key = ${groupKey}`);
    },
    listSupervisors: (ownerId) => {
      const sql = db();
      return all<SupervisorRow>(sql`SELECT ${sql.unsafe(SUPERVISOR_COLUMNS)} FROM supervisors WHERE owner_id = ${ownerId} ORDER BY created_at, group_key`);
    },
    updateSupervisor: async (ownerId, groupKey, restarts, exhausted) =>
      void (await db()`UPDATE supervisors SET restarts = ${restarts}, exhausted = ${exhausted ? 1 : 0} WHERE owner_id = ${ownerId} AND group_key = ${groupKey}`),
    insertMember: async (r) => {
      const position = (await one<{ n: number }>(db()`SELECT COUNT(*)::int AS n FROM supervised_members WHERE owner_id = ${r.ownerId} AND group_key = ${r.groupKey}`))!.n;
      await db()`INSERT INTO supervised_members (owner_id, group_key, member_key, position, workflow, input, run_id, created_at)
        VALUES (${r.ownerId}, ${r.groupKey}, ${r.memberKey}, ${position}, ${r.workflow}, ${r.input}, ${r.runId}, ${r.createdAt})`;
      return { ...r, position, restarts: 0 };
    },
    getMember: (ownerId, groupKey, memberKey) => {
      const sql = db();
      return one<MemberRow>(
        sql`SELECT ${sql.unsafe(MEMBER_COLUMNS)} FROM supervised_members WHERE owner_id = ${ownerId} AND group_key = ${groupKey} AND member_key = ${memberKey}`,
      );
    },
    memberByRun: (runId) => {
      const sql = db();
      return one<MemberRow>(sql`SELECT ${sql.unsafe(MEMBER_COLUMNS)} FROM supervised_members WHERE run_id = ${runId}`);
    },
    listMembers: (ownerId, groupKey) => {
      const sql = db();
      return all<MemberRow>(sql`SELECT ${sql.unsafe(MEMBER_COLUMNS)} FROM supervised_members WHERE owner_id = ${ownerId} AND group_key = ${groupKey} ORDER BY position`);
    },
    setMemberRun: async (ownerId, groupKey, memberKey, runId, restarts) =>
      void (await db()`UPDATE supervised_members SET run_id = ${runId}, restarts = ${restarts}
        WHERE owner_id = ${ownerId} AND group_key = ${groupKey} AND member_key = ${memberKey}`),
    // SQLite's UPDATE OR IGNORE: a wait the target already has (same waiter and op) stays where it is.
    moveRunWaiters: async (fromRunId, toRunId) =>
      void (await db()`UPDATE run_waiters w SET target_id = ${toRunId} WHERE w.target_id = ${fromRunId}
        AND NOT EXISTS (SELECT 1 FROM run_waiters t WHERE t.target_id = ${toRunId} AND t.waiter_id = w.waiter_id AND t.op_key = w.op_key)`),
  };
}
