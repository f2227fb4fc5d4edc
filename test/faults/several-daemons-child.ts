/**
 * One of several daemons sharing a PostgreSQL database (test/faults/several-daemons.test.ts): an
 * embedded runtime, the whole kernel in this process, with few slots so the work spreads.
 * Usage: bun several-daemons-child.ts <url> <markerPath> <leaseMs> [start]
 *
 * Prints `ready <daemonId>` once open. With `start`, it then starts the workload (fixed run ids,
 * so a start is never doubled), prints `started`, waits for every spread run's result (whichever
 * daemon ran it) and prints `results <n>`. It exits only when told: SIGTERM closes the runtime
 * first (a daemon that stops), SIGKILL does not.
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

const { spread, leaf, sink, sender } = severalDaemonsDefinitions(markerPath);
const rt = await createRuntime({
  database: url,
  definitions: [spread, leaf, sink, sender],
  logLevel: "error",
  maxConcurrentActivations: 6,
  daemonLeaseMs: Number(leaseText),
});
// A stop asked for: close the runtime (it tells the others it leaves), then exit.
process.once("SIGTERM", () => void rt.close().then(() => process.exit(0)));
say(`ready ${(await rt.daemons())?.find((d) => d.self)?.id ?? "?"}`);
if (role === "start") {
  for (let i = 0; i < SENDERS; i++) await rt.start(sender, senderInput(i), { id: senderRunId(i) });
  for (let i = 0; i < WORKFLOWS; i++) await rt.start(spread, { i }, { id: workflowRunId(i) });
  say("started");
  // Waited for here, whichever daemon runs them: the ends told by the others must reach this one.
  const outputs = await Promise.all(Array.from({ length: WORKFLOWS }, (_, i) => rt.result(workflowRunId(i), { timeout: "60s" })));
  say(`results ${outputs.length}`);
}
