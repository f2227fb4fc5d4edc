/** Supervision groups and their members. WHERE parameters are `+?` for the reason given in store.ts. */
import type { Database } from "bun:sqlite";
import type { MemberRow, SupervisorRow } from "./rows.ts";

const SUPERVISOR_COLUMNS = `owner_id AS ownerId, group_key AS groupKey, strategy, max_restarts AS maxRestarts, window_ms AS windowMs,
  on_exhausted AS onExhausted, restarts, exhausted, created_at AS createdAt`;
const MEMBER_COLUMNS = `owner_id AS ownerId, group_key AS groupKey, member_key AS memberKey, position, workflow, input, run_id AS runId,
  restarts, created_at AS createdAt`;

export interface SupervisionQueries {
  /** Adds a group (a group already under that key stands). */
  insertSupervisor(row: Omit<SupervisorRow, "restarts" | "exhausted">): void;
  getSupervisor(ownerId: string, groupKey: string): SupervisorRow | null;
  listSupervisors(ownerId: string): SupervisorRow[];
  updateSupervisor(ownerId: string, groupKey: string, restarts: string, exhausted: boolean): void;
  insertMember(row: Omit<MemberRow, "restarts" | "position">): MemberRow;
  getMember(ownerId: string, groupKey: string, memberKey: string): MemberRow | null;
  /** The member whose current run is `runId`. */
  memberByRun(runId: string): MemberRow | null;
  listMembers(ownerId: string, groupKey: string): MemberRow[];
  /** The member's current run and how many restarts led to it. */
  setMemberRun(ownerId: string, groupKey: string, memberKey: string, runId: string, restarts: number): void;
  /** Moves the waits on `fromRunId`'s end to `toRunId` (a supervised result survives restarts). */
  moveRunWaiters(fromRunId: string, toRunId: string): void;
}

export function createSupervisionQueries(db: Database): SupervisionQueries {
  const q = {
    insert: db.query(
      `INSERT OR IGNORE INTO supervisors (owner_id, group_key, strategy, max_restarts, window_ms, on_exhausted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    get: db.query<SupervisorRow, [string, string]>(`SELECT ${SUPERVISOR_COLUMNS} FROM supervisors WHERE owner_id = +? AND group_key = +?`),
    list: db.query<SupervisorRow, [string]>(`SELECT ${SUPERVISOR_COLUMNS} FROM supervisors WHERE owner_id = +? ORDER BY created_at, group_key`),
    update: db.query("UPDATE supervisors SET restarts = ?, exhausted = ? WHERE owner_id = +? AND group_key = +?"),
    nextPosition: db.query<{ n: number }, [string, string]>("SELECT COUNT(*) AS n FROM supervised_members WHERE owner_id = +? AND group_key = +?"),
    insertMember: db.query(
      `INSERT INTO supervised_members (owner_id, group_key, member_key, position, workflow, input, run_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getMember: db.query<MemberRow, [string, string, string]>(
      `SELECT ${MEMBER_COLUMNS} FROM supervised_members WHERE owner_id = +? AND group_key = +? AND member_key = +?`,
    ),
    byRun: db.query<MemberRow, [string]>(`SELECT ${MEMBER_COLUMNS} FROM supervised_members WHERE run_id = +?`),
    listMembers: db.query<MemberRow, [string, string]>(`SELECT ${MEMBER_COLUMNS} FROM supervised_members WHERE owner_id = +? AND group_key = +? ORDER BY position`),
    setRun: db.query("UPDATE supervised_members SET run_id = ?, restarts = ? WHERE owner_id = +? AND group_key = +? AND member_key = +?"),
    moveWaiters: db.query("UPDATE OR IGNORE run_waiters SET target_id = ? WHERE target_id = +?"),
  };
  return {
    insertSupervisor: (r) => void q.insert.run(r.ownerId, r.groupKey, r.strategy, r.maxRestarts, r.windowMs, r.onExhausted, r.createdAt),
    getSupervisor: (ownerId, groupKey) => q.get.get(ownerId, groupKey),
    listSupervisors: (ownerId) => q.list.all(ownerId),
    updateSupervisor: (ownerId, groupKey, restarts, exhausted) => void q.update.run(restarts, exhausted ? 1 : 0, ownerId, groupKey),
    insertMember: (r) => {
      const position = q.nextPosition.get(r.ownerId, r.groupKey)!.n;
      q.insertMember.run(r.ownerId, r.groupKey, r.memberKey, position, r.workflow, r.input, r.runId, r.createdAt);
      return { ...r, position, restarts: 0 };
    },
    getMember: (ownerId, groupKey, memberKey) => q.getMember.get(ownerId, groupKey, memberKey),
    memberByRun: (runId) => q.byRun.get(runId),
    listMembers: (ownerId, groupKey) => q.listMembers.all(ownerId, groupKey),
    setMemberRun: (ownerId, groupKey, memberKey, runId, restarts) => void q.setRun.run(runId, restarts, ownerId, groupKey, memberKey),
    moveRunWaiters: (fromRunId, toRunId) => void q.moveWaiters.run(toRunId, fromRunId),
  };
}
