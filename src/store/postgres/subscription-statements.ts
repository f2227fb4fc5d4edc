/** Topic subscriptions of service instances over PostgreSQL: the same methods as the SQLite store's (`subscription-queries.ts`), with the same results. */
import type { SQL } from "bun";
import type { SubscriptionStatements } from "../contract.ts";
import type { SubscriptionRow } from "../rows.ts";

const COLUMNS = `project, topic, service_run_id AS "serviceRunId", handler, max_queued AS "maxQueued", created_at AS "createdAt"`;

export function pgSubscriptionStatements(db: () => SQL): SubscriptionStatements {
  // A plain array: Bun's result arrays carry the command's count and name besides the rows.
  const all = async <T>(rows: Promise<T[]>): Promise<T[]> => [...(await rows)];
  return {
    subscribe: async (r) => {
      const existed = (await db()`SELECT COUNT(*)::int AS n FROM subscriptions
        WHERE project = ${r.project} AND topic = ${r.topic} AND service_run_id = ${r.serviceRunId} AND handler = ${r.handler}`)[0].n > 0;
      await db()`INSERT INTO subscriptions (project, topic, service_run_id, handler, max_queued, created_at)
        VALUES (${r.project}, ${r.topic}, ${r.serviceRunId}, ${r.handler}, ${r.maxQueued}, ${r.createdAt})
        ON CONFLICT (project, topic, service_run_id, handler) DO UPDATE SET max_queued = excluded.max_queued`;
      return !existed;
    },
    unsubscribe: async (serviceRunId, project, topic, handler) =>
      (handler === null
        ? await db()`DELETE FROM subscriptions WHERE service_run_id = ${serviceRunId} AND project = ${project} AND topic = ${topic}`
        : await db()`DELETE FROM subscriptions WHERE service_run_id = ${serviceRunId} AND project = ${project} AND topic = ${topic} AND handler = ${handler}`)
        .count,
    // Text keys in byte order, as SQLite compares them (`handler` and `topic` have the database's collation).
    subscribersOf: (project, topic) => {
      const sql = db();
      return all<SubscriptionRow>(
        sql`SELECT ${sql.unsafe(COLUMNS)} FROM subscriptions WHERE project = ${project} AND topic = ${topic} ORDER BY created_at, service_run_id, handler COLLATE "C"`,
      );
    },
    subscriptionsOf: (serviceRunId) => {
      const sql = db();
      return all<SubscriptionRow>(
        sql`SELECT ${sql.unsafe(COLUMNS)} FROM subscriptions WHERE service_run_id = ${serviceRunId} ORDER BY created_at, topic COLLATE "C", handler COLLATE "C"`,
      );
    },
  };
}
