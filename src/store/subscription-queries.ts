/** Topic subscriptions of service instances. WHERE parameters are `+?` for the reason given in store.ts. */
import type { Database } from "bun:sqlite";
import type { SubscriptionRow } from "./rows.ts";

const COLUMNS = "project, topic, service_run_id AS serviceRunId, handler, max_queued AS maxQueued, created_at AS createdAt";

export interface SubscriptionQueries {
  /** Adds or refreshes a subscription; false when it was already there. */
  subscribe(row: SubscriptionRow): boolean;
  /** Removes an instance's subscriptions to `topic` (only the one to `handler`, when given); returns how many. */
  unsubscribe(serviceRunId: string, project: string, topic: string, handler: string | null): number;
  /** Subscriptions to `topic` in `project`, oldest first. */
  subscribersOf(project: string, topic: string): SubscriptionRow[];
  subscriptionsOf(serviceRunId: string): SubscriptionRow[];
}

export function createSubscriptionQueries(db: Database): SubscriptionQueries {
  const q = {
    exists: db.query<{ n: number }, [string, string, string, string]>(
      "SELECT COUNT(*) AS n FROM subscriptions WHERE project = +? AND topic = +? AND service_run_id = +? AND handler = +?",
    ),
    upsert: db.query(
      `INSERT INTO subscriptions (project, topic, service_run_id, handler, max_queued, created_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(project, topic, service_run_id, handler) DO UPDATE SET max_queued = excluded.max_queued`,
    ),
    removeOne: db.query("DELETE FROM subscriptions WHERE service_run_id = +? AND project = +? AND topic = +? AND handler = +?"),
    removeAll: db.query("DELETE FROM subscriptions WHERE service_run_id = +? AND project = +? AND topic = +?"),
    of: db.query<SubscriptionRow, [string, string]>(`SELECT ${COLUMNS} FROM subscriptions WHERE project = +? AND topic = +? ORDER BY created_at, service_run_id, handler`),
    byInstance: db.query<SubscriptionRow, [string]>(`SELECT ${COLUMNS} FROM subscriptions WHERE service_run_id = +? ORDER BY created_at, topic, handler`),
  };
  return {
    subscribe: (r) => {
      const existed = q.exists.get(r.project, r.topic, r.serviceRunId, r.handler)!.n > 0;
      q.upsert.run(r.project, r.topic, r.serviceRunId, r.handler, r.maxQueued, r.createdAt);
      return !existed;
    },
    unsubscribe: (serviceRunId, project, topic, handler) =>
      (handler === null ? q.removeAll.run(serviceRunId, project, topic) : q.removeOne.run(serviceRunId, project, topic, handler)).changes,
    subscribersOf: (project, topic) => q.of.all(project, topic),
    subscriptionsOf: (serviceRunId) => q.byInstance.all(serviceRunId),
  };
}
