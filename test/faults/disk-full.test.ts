/**
 * A full disk, for real: the database lives on a small tmpfs that the test fills. Commits fail
 * while it is full; once space is freed the kernel recovers on its own — no restart — and the
 * acknowledged run finishes with each step recorded once.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createConsola } from "consola";
import { createRuntime } from "../../src/embedded/index.ts";
import { workflow } from "../../src/sdk/index.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const disk = tempDir("vilano-disk-");
// Room enough, once the filler is gone, for the database file and its write-ahead log together:
// during a burst of commits the log is not started over (store/checkpointer.ts), and the pages
// checkpointed into the file keep their frames in the log meanwhile, so the two take up to about
// twice the 2.6 MB the run records (measured: 5.2–6.2 MB). On a 4 MB disk that was sometimes more
// than the disk held even without the filler: the disk stayed full and the run, rightly, waited.
const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", disk]).exitCode === 0;
afterAll(() => {
  if (mounted) Bun.spawnSync(["umount", "-l", disk]);
});

const STEPS = 40;
const CHUNK = "d".repeat(64 * 1024);
/** Forty steps of 64 KB each: more than the disk holds once the filler is in. */
const heavy = workflow({
  name: "heavy",
  run: async (_input: void, ctx) => {
    let total = 0;
    for (let i = 0; i < STEPS; i++) total += (await ctx.step("chunk", () => `${i}:${CHUNK}`)).length;
    return total;
  },
});

/** Fills the disk, leaving about `leaveBytes` free. */
function fill(leaveBytes: number): string {
  const filler = join(disk, "filler");
  const free = Number(Bun.spawnSync(["df", "--output=avail", "-B1", disk]).stdout.toString().trim().split("\n")[1]);
  writeFileSync(filler, Buffer.alloc(Math.max(0, free - leaveBytes)));
  return filler;
}

test.skipIf(!mounted)("a commit that fails on a full disk: the kernel recovers once there is room, without a restart", async () => {
  const logged: string[] = [];
  const logger = createConsola({ level: 3, reporters: [{ log: (entry) => logged.push(entry.args.map(String).join(" ")) }] });
  await using rt = await createRuntime({ database: join(disk, "runtime.sqlite"), definitions: [heavy], logger });
  const filler = fill(600 * 1024);
  const run = await rt.start(heavy);
  // A commit fails on the full disk; while it stays full the run cannot get further (the kernel's
  // recovery may not be able to commit either, until there is room).
  await eventually(() => (logged.some((line) => line.includes("a commit failed")) ? true : undefined), 10_000, "a commit to fail on the full disk");
  expect(await rt.status(run.id)).not.toBe("completed");

  rmSync(filler);
  expect(await run.result({ timeout: "30s" })).toBe(STEPS * (CHUNK.length + 3) - 10);
  const { ops, events } = await rt.inspect(run.id);
  expect(ops).toHaveLength(STEPS);
  const recorded = events.filter((e) => e.type === "step_completed").map((e) => e.opKey);
  expect(new Set(recorded).size).toBe(STEPS);
  expect(recorded).toHaveLength(STEPS);
  expect(events.some((e) => e.type === "run_recovered")).toBe(true);
}, 60_000);
