/**
 * Child process of the service crash fault test (test/faults/service-crash.test.ts), meant to be
 * killed with SIGKILL. Usage: bun service-crash-child.ts <ordering|counter> <dbPath> <markerPath>
 *
 * Opens the runtime on the file database (which recovers every interrupted run and turn), prints
 * `ready`, then starts the workload's runs under fixed ids (idempotent: a later child finds the
 * runs an earlier one started) and prints `started <runId> <created|existing>` after each
 * `rt.start()` resolved, that is after the start is committed, then `all-started`. It never exits
 * on its own.
 */
import { writeSync } from "node:fs";
import { createRuntime } from "../../src/embedded/index.ts";
import {
  ASKERS,
  askerRunId,
  counterDefinitions,
  orderingDefinitions,
  senderInput,
  senderRunId,
  SENDERS,
} from "./service-crash-workload.ts";

const [mode, dbPath, markerPath] = process.argv.slice(2);
if ((mode !== "ordering" && mode !== "counter") || !dbPath || !markerPath) {
  console.error("usage: service-crash-child.ts <ordering|counter> <dbPath> <markerPath>");
  process.exit(2);
}

// Synchronous writes: a line the parent reads was written after the awaited commit, never buffered.
const say = (line: string) => writeSync(1, `${line}\n`);

// Keep the process alive after the starts: it ends only by SIGKILL.
setInterval(() => {}, 1 << 30);

if (mode === "ordering") {
  const { sink, sender } = orderingDefinitions(markerPath);
  const rt = await createRuntime({ database: dbPath, definitions: [sink, sender], logLevel: "warn" });
  say("ready");
  for (let i = 0; i < SENDERS; i++) {
    const run = await rt.start(sender, senderInput(i), { id: senderRunId(i) });
    say(`started ${run.id} ${run.created ? "created" : "existing"}`);
  }
} else {
  const { counter, asker } = counterDefinitions(markerPath);
  const rt = await createRuntime({ database: dbPath, definitions: [counter, asker], logLevel: "warn" });
  say("ready");
  // All at once: the asks arrive concurrently and queue up in the counter's inbox.
  await Promise.all(
    Array.from({ length: ASKERS }, async (_, i) => {
      const run = await rt.start(asker, { i }, { id: askerRunId(i) });
      say(`started ${run.id} ${run.created ? "created" : "existing"}`);
    }),
  );
}
say("all-started");
