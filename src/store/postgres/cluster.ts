/**
 * Several daemons on one PostgreSQL database: the members table, heartbeats, claims of pending
 * runs, and the notices a commit sends to the other daemons (LISTEN/NOTIFY).
 *
 * Times here are the database's clock, so daemons on machines whose clocks disagree still agree on
 * who is silent. A member of this very machine (same host name and boot id) whose process is gone
 * is dead at once: a daemon killed and restarted here does not wait out the time to live.
 */
import { hostname } from "node:os";
import { readFileSync, readlinkSync } from "node:fs";
import type { SQL } from "bun";
import { isSignallablePid, signalProcess } from "../../shared/signal-process.ts";
import { VERSION } from "../../shared/version.ts";
import type { Cluster, ClusterNotice, DaemonRow, DeadMember } from "../boundary.ts";
import type { Later } from "./core-statements.ts";

export const NOTICE_CHANNEL = "vilano_changes";
/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more: bigger notices go in parts. */
const MAX_PAYLOAD = 7_000;
const DB_NOW = "(extract(epoch from clock_timestamp()) * 1000)";

export function newDaemonId(): string {
  return `d-${crypto.randomUUID().slice(0, 13)}`;
}

/**
 * This machine's boot and this process's pid namespace: members that share both are processes
 * this one can look up by pid (containers on one host each have their own namespace). Empty where
 * that cannot be known, and then a member is dead only by its silence.
 */
const BOOT_ID = (() => {
  try {
    return `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return "";
  }
})();

/** Gone for sure; a pid that names no single process (a damaged row) cannot tell, and then silence decides. */
function processGone(pid: number): boolean {
  if (!isSignallablePid(pid, 0)) return false;
  try {
    return !signalProcess(pid, 0);
  } catch {
    return false; // EPERM: someone's process lives there
  }
}

/** Splits a notice into payloads PostgreSQL takes, each a notice of its own. */
export function noticePayloads(notice: ClusterNotice): string[] {
  const whole = JSON.stringify(notice);
  if (whole.length <= MAX_PAYLOAD) return [whole];
  const payloads: string[] = [];
  let part: ClusterNotice = { from: notice.from };
  const flush = () => {
    payloads.push(JSON.stringify(part));
    part = { from: notice.from };
  };
  const add = <K extends "touched" | "ended" | "aborted" | "messages">(key: K, value: NonNullable<ClusterNotice[K]>[number]) => {
    const list = ((part[key] as unknown[] | undefined) ??= []);
    list.push(value);
    if (JSON.stringify(part).length > MAX_PAYLOAD) {
      list.pop();
      flush();
      ((part[key] as unknown[] | undefined) ??= []).push(value);
    }
  };
  for (const id of notice.touched ?? []) add("touched", id);
  for (const id of notice.ended ?? []) add("ended", id);
  for (const id of notice.aborted ?? []) add("aborted", id);
  for (const id of notice.messages ?? []) add("messages", id);
  if (notice.pending) part.pending = true;
  if (notice.left) part.left = true;
  flush();
  return payloads;
}

/**
 * `db()` is the open transaction's connection while there is one (the pool otherwise); `pool`
 * is always the pool: heartbeats, claims and listening never wait for the writer's transaction.
 */
export interface PgCluster extends Cluster {
  join(): Promise<void>;
  leave(): Promise<void>;
  /** The database is away: stop listening (the client would retry on its own, at its own pace). */
  pauseListening(): Promise<void>;
  /** The database is back: listen again, and look at what the notices missed meanwhile would have said. */
  resumeListening(): Promise<void>;
}

export function pgCluster(me: string, db: () => SQL, pool: SQL, later: Later, noteWrite: () => void): PgCluster {
  const host = hostname();
  /** What `listen` was given (null before it, and after `leave`). */
  let listener: { onNotice: (notice: ClusterNotice) => void; onResubscribed: () => void } | null = null;
  let subscription: { unlisten(): Promise<void> } | null = null;
  /** Subscribing and unsubscribing, one after another. */
  let listening: Promise<unknown> = Promise.resolve();
  const inTurn = (step: () => Promise<void>): Promise<void> => {
    const next = listening.then(step);
    listening = next.catch(() => {});
    return next;
  };
  const subscribe = async ({ onNotice, onResubscribed }: NonNullable<typeof listener>) => {
    let subscribed = false;
    subscription = await pool.listen(
      NOTICE_CHANNEL,
      (payload) => {
        let notice: ClusterNotice;
        try {
          notice = JSON.parse(payload) as ClusterNotice;
        } catch {
          return; // not one of ours
        }
        if (notice.from !== me) onNotice(notice);
      },
      () => {
        // Bun subscribes again after the connection is lost; notices sent in between are gone.
        if (subscribed) onResubscribed();
        subscribed = true;
      },
    );
  };
  const unsubscribe = async () => {
    const current = subscription;
    subscription = null;
    await current?.unlisten().catch(() => {});
  };

  const join = async () => {
    await pool.unsafe(
      `INSERT INTO daemons (id, host, boot_id, pid, version, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, ${DB_NOW}, ${DB_NOW})
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      [me, host, BOOT_ID, process.pid, VERSION],
    );
  };

  return {
    daemonId: me,
    join,
    async heartbeat() {
      const renewed = await pool.unsafe(`UPDATE daemons SET heartbeat_at = ${DB_NOW} WHERE id = $1 RETURNING id`, [me]);
      if (renewed.length > 0) return true;
      await join();
      return false;
    },
    async members() {
      const rows = await pool.unsafe(
        `SELECT id, host, pid, version, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", ${DB_NOW} - heartbeat_at AS "silentMs"
         FROM daemons ORDER BY started_at, id`,
      );
      return [...rows] as DaemonRow[];
    },
    async deadMembers(ttlMs) {
      const rows = await pool.unsafe(
        `SELECT id, host, boot_id AS "bootId", pid, ${DB_NOW} - heartbeat_at > $2 AS silent FROM daemons WHERE id <> $1`,
        [me, ttlMs],
      );
      const dead: DeadMember[] = [];
      for (const row of rows) {
        const local = row.host === host && BOOT_ID !== "" && row.bootId === BOOT_ID && row.pid !== process.pid;
        if (local && processGone(row.pid)) dead.push({ id: row.id, gone: true });
        else if (row.silent) dead.push({ id: row.id, gone: false });
      }
      return dead;
    },
    async removeMembers(dead, ttlMs) {
      noteWrite();
      // Found dead before this transaction had the commit lock: a silent one that beat since stays.
      const gone = dead.filter((d) => d.gone).map((d) => d.id);
      const silent = dead.filter((d) => !d.gone).map((d) => d.id);
      if (gone.length > 0) await db()`DELETE FROM daemons WHERE id = ANY(${gone}::text[])`;
      if (silent.length > 0) await db().unsafe(`DELETE FROM daemons WHERE id = ANY($1::text[]) AND ${DB_NOW} - heartbeat_at > $2`, [silent, ttlMs]);
      // Claims of members that are gone go back to everyone.
      await db()`UPDATE runs SET owner = NULL WHERE status = 'pending' AND owner IS NOT NULL AND NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = runs.owner)`;
      const orphaned = await db()`SELECT id FROM runs WHERE status IN ('running', 'active')
        AND (owner IS NULL OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = runs.owner)) ORDER BY created_at, id`;
      return [...orphaned].map((row) => row.id as string);
    },
    async ownLeases() {
      const rows = await db()`SELECT id FROM runs WHERE status IN ('running', 'active') AND owner = ${me} ORDER BY created_at, id`;
      return [...rows].map((row) => row.id as string);
    },
    async claimPending(limit, except = []) {
      if (limit <= 0) return [];
      // Daemons claim at once without waiting for each other: a row another claim (or a writer's
      // transaction) has locked is skipped, not waited for.
      const rows = await pool`UPDATE runs SET owner = ${me} WHERE id IN (
          SELECT id FROM runs WHERE status = 'pending' AND owner IS NULL AND id <> ALL(${except}::text[])
          ORDER BY updated_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED
        ) RETURNING id`;
      return [...rows].map((row) => row.id as string);
    },
    async strays() {
      const [row] = await pool`SELECT EXISTS (SELECT 1 FROM runs WHERE status IN ('running', 'active')
          AND (owner IS NULL OR NOT EXISTS (SELECT 1 FROM daemons d WHERE d.id = runs.owner))) AS orphaned,
        ARRAY(SELECT id FROM runs WHERE status = 'pending' AND owner = ${me} ORDER BY updated_at, id LIMIT 1000) AS claimed`;
      const leased = await pool`SELECT id, lease_fence AS fence FROM runs WHERE owner = ${me} AND status IN ('running', 'active') LIMIT 10000`;
      return { orphaned: row.orphaned as boolean, claimed: [...(row.claimed as string[])], leased: [...leased] as { id: string; fence: number }[] };
    },
    async unclaim(runId) {
      // Given back, it is claimable again: the others hear so, or nobody would look at it.
      await pool.begin(async (tx) => {
        const given = await tx`UPDATE runs SET owner = NULL WHERE id = ${runId} AND owner = ${me} AND status = 'pending' RETURNING id`;
        if (given.length > 0) for (const payload of noticePayloads({ from: me, pending: true })) await tx`SELECT pg_notify(${NOTICE_CHANNEL}, ${payload})`;
      });
    },
    async announce(notice) {
      for (const payload of noticePayloads({ from: me, ...notice })) await later(db()`SELECT pg_notify(${NOTICE_CHANNEL}, ${payload})`);
    },
    async listen(onNotice, onResubscribed) {
      const heard = (listener = { onNotice, onResubscribed });
      await inTurn(() => subscribe(heard));
    },
    pauseListening: () => inTurn(unsubscribe),
    resumeListening: () =>
      inTurn(async () => {
        const heard = listener;
        if (heard === null || subscription !== null) return;
        await subscribe(heard);
        heard.onResubscribed();
      }),
    async leave() {
      listener = null;
      await inTurn(unsubscribe);
      await pool`DELETE FROM daemons WHERE id = ${me}`;
      // Told outside any transaction: the others take over what this daemon still held.
      for (const payload of noticePayloads({ from: me, left: true })) await pool`SELECT pg_notify(${NOTICE_CHANNEL}, ${payload})`;
    },
  };
}
