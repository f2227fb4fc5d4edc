/**
 * Run by pg-store.test.ts in a process of its own (bun test would take any unhandled rejection as
 * the test's failure before the process's listeners hear it): `cycles` times, a second store's
 * batch waits for the commit lock with reads pipelined behind the lock, the server cancels the
 * wait, and the batch must fail as a storage fault while this process lives on, and the next batch
 * must commit. Prints what happened as JSON.
 * Usage: bun pg-cancel-child.ts <database url> <cycles>
 */
import { SQL } from "bun";
import { createPostgresStore, dropOrphanedCancels, isStorageFault } from "../../src/store/index.ts";

const [url, cyclesArg] = process.argv.slice(2);
const WAITING_FOR_LOCK = "FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
// As the daemon does (src/runtime/daemon.ts): see src/store/postgres/orphaned-cancels.ts.
dropOrphanedCancels();
const first = await createPostgresStore(url!);
const second = await createPostgresStore(url!);
const plain = new SQL(url!, { max: 1 });
await first.claimWriter();
await second.claimWriter();
const seen = { cycles: 0, faults: 0, committed: 0 };
const run = (id: string) => ({ id, kind: "workflow" as const, name: "w", status: "pending" as const, input: null, parentId: null, project: "", snapshotId: null, now: 1_700_000_000_000 });
for (let i = 0; i < Number(cyclesArg); i++) {
  const released = Promise.withResolvers<void>();
  const holding = Promise.withResolvers<void>();
  const held = first.transaction(async () => {
    holding.resolve();
    await released.promise;
  });
  await holding.promise;
  const waiting = second.transaction(async () => {}, { prefetch: [{ runId: "r", opKey: "k" }] });
  while ((await plain.unsafe(`SELECT count(*)::int AS n ${WAITING_FOR_LOCK}`))[0].n === 0) await Bun.sleep(1);
  await plain.unsafe(`SELECT pg_cancel_backend(pid) ${WAITING_FOR_LOCK}`);
  if (isStorageFault(await waiting.then(() => null, (e: unknown) => e))) seen.faults++;
  released.resolve();
  await held;
  await second.transaction(() => second.insertRun(run(`next-${i}`)));
  if (await first.reads.getRun(`next-${i}`)) seen.committed++;
  seen.cycles++;
}
// Orphaned rejections come a little after the batch's own: give them a moment to arrive.
await Bun.sleep(50);
await first.close();
await second.close();
await plain.close();
console.log(JSON.stringify(seen));
