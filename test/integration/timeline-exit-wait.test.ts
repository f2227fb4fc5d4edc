/**
 * The dashboard's timeline draws a `ctx.nextExit()` wait as a wait, from when it began to when it
 * ended: the kernel records `exit_wait_started` when the wait has to wait, as it does for signals.
 * A real kernel on a SQLite file, the timeline built from what `inspect` returns.
 */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { createRuntime } from "../../src/embedded/index.ts";
import { workflow } from "../../src/sdk/index.ts";
import { buildTimeline } from "../../src/ui/timeline.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const lonely = workflow({
  name: "lonely",
  run: async (_input: void, ctx) => ctx.nextExit({ timeout: "150ms" }).then(
    () => "an exit came",
    (error: { code?: string }) => error.code ?? "no code",
  ),
});

test("a nextExit wait that times out is drawn as a wait span ending when it gave up", async () => {
  await using rt = await createRuntime({ database: join(tempDir("vilano-timeline-"), "runtime.sqlite"), definitions: [lonely] });
  const run = await rt.start(lonely);
  expect(await run.result({ timeout: "30s" })).toBe("exit_timeout");
  const inspection = await rt.inspect(run.id);
  const wait = inspection.ops.find((op) => op.kind === "exit_wait")!;
  expect(wait).toBeDefined();
  const started = inspection.events.find((e) => e.type === "exit_wait_started" && e.opKey === wait.opKey);
  const gaveUp = inspection.events.find((e) => e.type === "exit_wait_timed_out" && e.opKey === wait.opKey);
  expect(started).toBeDefined();
  expect(gaveUp).toBeDefined();
  const row = buildTimeline(inspection, Date.now()).rows.find((r) => r.opKey === wait.opKey)!;
  expect(row.spans).toEqual([{ kind: "wait", start: started!.at, end: gaveUp!.at, label: "waits for an exit event" }]);
}, 60_000);
