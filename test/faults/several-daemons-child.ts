/**
 * One of several daemons sharing a PostgreSQL database (test/faults/several-daemons.test.ts): an
 * embedded runtime, the whole kernel in this process, with few slots so the work spreads.
 * Usage: bun several-daemons-child.ts <url> <markerPath> <leaseMs> [start]
 *
 * Prints `ready <daemonId>` once open. With `start`, it then starts the workload (fixed run ids,
 * so a start is never doubled) and prints `started`. It never exits on its own.
 */
import { writeSync } from "node:fs";
import { createRuntime } from "../../src/embedded/index.ts";
import { severalDaemonsDefinitions, WORKFLOWS, SENDERS, workflowRunId, senderRunId, senderInput } from "./several-daemons-workload.ts";

const [url, markerPath, leaseText, role] = process.argv.slice(2);
if (!url || !markerPath || !leaseText) {
  console.error("usage: several-daemons-child.ts <url> <markerPath> <leaseMs> [start]");
  process.exit(2);
}
const say = (line: string) => writeSync(1, `${line}\n`);
setInterval(() => {}, 1 << 30);

const { spread, sink, sender } = severalDaemonsDefinitions(markerPath);
const rt = await createRuntime({
  database: url,
  definitions: [spread, sink, sender],
  logLevel: "error",
  maxConcurrentActivations: 6,
  daemonLeaseMs: Number(leaseText),
});
say(`ready ${(await rt.daemons())?.find((d) => d.self)?.id ?? "?"}`);
if (role === "start") {
  for (let i = 0; i < SENDERS; i++) await rt.start(sender, senderInput(i), { id: senderRunId(i) });
  for (let i = 0; i < WORKFLOWS; i++) await rt.start(spread, { i }, { id: workflowRunId(i) });
  say("started");
}
