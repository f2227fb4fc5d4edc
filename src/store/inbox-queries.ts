/**
 * Service instances and their inboxes: instance rows, state, and the messages table.
 * Message statuses: `queued` (ready, FIFO by id), `deferred` (due at `wake_at`), `active` (the
 * message of the current turn; with `wake_at` while its retry backs off), then `done`, `failed` or
 * `cancelled`.
 */
import type { Database } from "bun:sqlite";
import type { MessageStatus } from "../shared/index.ts";
import type { InboxCounts, MessageRow, NewInstance, NewMessage } from "./rows.ts";

// WHERE parameters are `+?` for the reason given in store.ts.
const MESSAGE_COLUMNS = `id, service_run_id AS serviceRunId, kind, name, payload, status, attempt,
  sender_run_id AS senderRunId, sender_op_key AS senderOpKey, wake_at AS wakeAt, reply, error,
  created_at AS createdAt, updated_at AS updatedAt`;

export interface MessageUpdate {
  status: MessageStatus;
  attempt?: number;
  wakeAt?: number | null;
  reply?: string | null;
  error?: string | null;
}

export interface InboxQueries {
  insertInstance(instance: NewInstance): void;
  setState(runId: string, state: string | null, now: number): void;
  insertMessage(message: NewMessage): number;
  getMessage(id: number): MessageRow | null;
  /** The message of the current (possibly suspended) turn. */
  activeMessage(serviceRunId: string): MessageRow | null;
  /** The oldest ready message. */
  nextReadyMessage(serviceRunId: string): MessageRow | null;
  updateMessage(id: number, update: MessageUpdate, now: number): void;
  /** Queued and deferred messages (not the active one). */
  inboxCounts(serviceRunId: string): InboxCounts;
  listMessages(serviceRunId: string, limit: number): MessageRow[];
  /** Messages not finished yet: queued, deferred and active. */
  openMessages(serviceRunId: string): MessageRow[];
  /**
   * Asks this run made that are not finished: not started yet, or being served by a turn (sends stand
   * once enqueued: they are fire-and-forget).
   */
  openOutbound(senderRunId: string): MessageRow[];
  /** The same, limited to asks made by ops whose keys start with `prefix` (one turn's). */
  openOutboundWithPrefix(senderRunId: string, prefix: string, prefixEnd: string): MessageRow[];
  dueMessages(now: number, limit: number): MessageRow[];
}

export function createInboxQueries(db: Database): InboxQueries {
  const q = {
    insertInstance: db.query(
      `INSERT INTO runs (id, kind, project, snapshot_id, name, status, service_key, key_input, created_at, updated_at)
       VALUES (?, 'service', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    setState: db.query("UPDATE runs SET state = ?, updated_at = ? WHERE id = +?"),
    insertMessage: db.query<{ id: number }, [string, string, string, string | null, string | null, string | null, number, number]>(
      `INSERT INTO messages (service_run_id, kind, name, payload, status, sender_run_id, sender_op_key, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING id`,
    ),
    getMessage: db.query<MessageRow, [number]>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE id = +?`),
    activeMessage: db.query<MessageRow, [string]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE service_run_id = +? AND status = 'active' ORDER BY id LIMIT 1`,
    ),
    nextReady: db.query<MessageRow, [string]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE service_run_id = +? AND status = 'queued' ORDER BY id LIMIT 1`,
    ),
    update: db.query(
      "UPDATE messages SET status = ?, attempt = COALESCE(?, attempt), wake_at = ?, reply = ?, error = ?, updated_at = ? WHERE id = +?",
    ),
    counts: db.query<InboxCounts, [string]>(
      `SELECT COUNT(*) AS total,
              COALESCE(SUM(status = 'queued'), 0) AS ready,
              COALESCE(SUM(status = 'deferred'), 0) AS deferred,
              COALESCE(SUM(kind = 'ask'), 0) AS asks,
              COALESCE(SUM(kind = 'send'), 0) AS sends,
              COALESCE(SUM(kind = 'signal'), 0) AS signals,
              MIN(created_at) AS oldestAt,
              MIN(wake_at) AS nextWakeAt
       FROM messages WHERE service_run_id = +? AND status IN ('queued', 'deferred')`,
    ),
    list: db.query<MessageRow, [string, number]>(`SELECT ${MESSAGE_COLUMNS} FROM messages WHERE service_run_id = +? ORDER BY id DESC LIMIT ?`),
    open: db.query<MessageRow, [string]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE service_run_id = +? AND status IN ('queued', 'deferred', 'active') ORDER BY id`,
    ),
    outbound: db.query<MessageRow, [string]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_run_id = +? AND kind = 'ask' AND status IN ('queued', 'deferred', 'active') ORDER BY id`,
    ),
    outboundScoped: db.query<MessageRow, [string, string, string]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE sender_run_id = +? AND kind = 'ask' AND status IN ('queued', 'deferred', 'active')
       AND sender_op_key >= +? AND sender_op_key < +? ORDER BY id`,
    ),
    due: db.query<MessageRow, [number, number]>(
      `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE wake_at IS NOT NULL AND wake_at <= +? ORDER BY wake_at LIMIT ?`,
    ),
  };
  return {
    insertInstance: (i) =>
      void q.insertInstance.run(i.id, i.project, i.snapshotId, i.name, i.status, i.serviceKey, i.keyInput, i.now, i.now),
    setState: (runId, state, now) => void q.setState.run(state, now, runId),
    insertMessage: (m) =>
      q.insertMessage.get(m.serviceRunId, m.kind, m.name, m.payload, m.senderRunId, m.senderOpKey, m.now, m.now)!.id,
    getMessage: (id) => q.getMessage.get(id),
    activeMessage: (id) => q.activeMessage.get(id),
    nextReadyMessage: (id) => q.nextReady.get(id),
    updateMessage: (id, u, now) =>
      void q.update.run(u.status, u.attempt ?? null, u.wakeAt ?? null, u.reply ?? null, u.error ?? null, now, id),
    inboxCounts: (id) => q.counts.get(id)!,
    listMessages: (id, limit) => q.list.all(id, limit).reverse(),
    openMessages: (id) => q.open.all(id),
    openOutbound: (id) => q.outbound.all(id),
    openOutboundWithPrefix: (id, prefix, end) => q.outboundScoped.all(id, prefix, end),
    dueMessages: (now, limit) => q.due.all(now, limit),
  };
}
