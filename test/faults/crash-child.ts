/**
 * Child process of the crash fault test (test/faults/crash-recovery.test.ts), meant to be killed
 * with SIGKILL at a random moment. Usage: bun crash-child.ts <dbPath> <markerPath> <seed>
 *
 * Opens the runtime on the file database (which recovers every unfinished run), prints `ready`,
 * then starts up to MAX_STARTS runs one after another, with short seeded gaps, while the earlier
 * ones execute. It prints `started <runId>` only after `rt.start()` resolved, that is after the
 * start is committed: the parent treats exactly those lines as acknowledged runs, the k-th of them
 * having input `inputFor(seed, k)`. It never exits on its own.
 */
import { writeSync } from "node:fs";
import { createRuntime } from "../../src/embedded/index.ts";
import { crashWorkflow, inputFor } from "./crash-workload.ts";
import { mulberry32 } from "../helpers/seeded.ts";

/** Bounds the runs one child starts; with the gaps below the loop spans most of the kill window. */
const MAX_STARTS = 40;
const MAX_GAP_MS = 4;

const [dbPath, markerPath, seedText] = process.argv.slice(2);
if (!dbPath || !markerPath || !seedText) {
  console.error("usage: crash-child.ts <dbPath> <markerPath> <seed>");
  process.exit(2);
}
const seed = Number(seedText);
const rand = mulberry32(seed);

// Synchronous writes: a line the parent reads was written after the awaited commit, never buffered.
const say = (line: string) => writeSync(1, `${line}\n`);

// Keep the process alive after the loop: it ends only by SIGKILL.
setInterval(() => {}, 1 << 30);

const wf = crashWorkflow(markerPath);
const rt = await createRuntime({ database: dbPath, definitions: [wf], logLevel: "warn" });
say("ready");
for (let k = 0; k < MAX_STARTS; k++) {
  const run = await rt.start(wf, inputFor(seed, k));
  if (!run.created) throw new Error(`start ${k} returned an existing run ${run.id}`);
  say(`started ${run.id}`);
  // A short seeded gap shapes the load (starts interleave with executing runs); it waits for nothing.
  const gap = Math.floor(rand() * (MAX_GAP_MS + 1));
  if (gap > 0) await Bun.sleep(gap);
}
say("all-started");
