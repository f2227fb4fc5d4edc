/**
 * The measurement of services-memory.test.ts, in a process of its own: resident memory is the
 * process's, and a test run's earlier files (their runtimes, timers, garbage) would count in it.
 * Usage: bun services-memory-child.ts <database>; prints one JSON line.
 */
import { createRuntime } from "../../src/embedded/index.ts";
import { service } from "../../src/sdk/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

const database = process.argv[2]!;
const profile = service({
  name: "profile",
  key: (input: { user: string }) => input.user,
  init: async (input) => ({ user: input.user, visits: 0, bio: "x".repeat(200) }),
  onSend: { visit: async (_p: void, state) => ({ state: { ...state, visits: state.visits + 1 } }) },
});
await using rt = await createRuntime({ database, definitions: [profile], logLevel: "silent" });
const BATCH = 500;
const visitAll = async (prefix: string, count: number) => {
  for (let start = 0; start < count; start += BATCH) {
    const refs = await Promise.all(Array.from({ length: BATCH }, (_, i) => rt.connect(profile, { user: `${prefix}${start + i}` })));
    await Promise.all(refs.map((ref) => ref.send.visit()));
  }
};
// Warm up first (allocator arenas, SQLite page cache, JIT), so the growth measured is the instances'.
await visitAll("warm", 1_000);
Bun.gc(true);
const before = process.memoryUsage().rss;
await visitAll("u", 10_000);
// Every instance handled its message and went idle (checked without loading 10,000 rows).
const busy = async () => (await Promise.all((["pending", "active", "waiting"] as const).map((status) => rt.list({ status, limit: 1 })))).flat();
await eventually(async () => ((await busy()).length === 0 ? true : undefined), 20_000, "every instance to go idle");
Bun.gc(true);
const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024;
const last = (await rt.inspect("svc:profile:u9999")).run.state;
process.stdout.write(`${JSON.stringify({ grownMb, last })}\n`);
