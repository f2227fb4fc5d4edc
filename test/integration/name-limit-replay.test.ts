/**
 * The name limit (1024 characters for names, keys and topics) holds for ops user code asks for
 * now, not for ops a history already recorded: a run recorded before the limit existed, with a
 * step named at length, must still replay and finish. Such a history is made here as an older
 * version left it: the run is recorded with short names, then its SQLite file is given the long
 * names (and the keys made from them) that version would have stored.
 */
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import { createRuntime, type Runtime } from "../../src/embedded/index.ts";
import { workflow } from "../../src/sdk/index.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDatabase, tempDir } from "../helpers/temp-dir.ts";

/** Until the run's signal wait is recorded (the history to rewrite is complete then). */
const waitingForSignal = (rt: Runtime, runId: string) =>
  eventually(async () => ((await rt.inspect(runId)).ops.some((op) => op.kind === "signal" && op.status === "waiting") ? true : undefined), 30_000, "the run to wait for its signal");

const LONG_STEP = "s".repeat(1500);
const LONG_KEY = "k".repeat(1500);
const LONG_LATER = "n".repeat(1300);

/** What the code names its ops; switched from short to long between recording and replay. */
const names = { step: "fetch", key: "keyed", later: "later" };

const longNames = workflow({
  name: "longNames",
  run: async (input: { newLongStep: boolean }, ctx) => {
    const a = await ctx.step(names.step, () => "a");
    const b = await ctx.step("other", () => "b", { key: names.key });
    const go = await ctx.waitForSignal("go");
    // A new op after the recorded ones: the limit applies to it.
    const c = input.newLongStep ? await ctx.step(LONG_LATER, () => "c") : "c";
    return `${a}${b}${go}${c}`;
  },
});

/** Gives the recorded ops the long names and keys an older version would have stored. */
function lengthenRecordedNames(database: string, runId: string) {
  const db = new Database(database);
  try {
    const renamed = db.query("UPDATE ops SET op_key = ?, name = ? WHERE run_id = ? AND op_key = ?").run(`step:${LONG_STEP}:0`, LONG_STEP, runId, "step:fetch:0");
    const rekeyed = db.query("UPDATE ops SET op_key = ? WHERE run_id = ? AND op_key = ?").run(LONG_KEY, runId, "keyed");
    expect([renamed.changes, rekeyed.changes]).toEqual([1, 1]);
  } finally {
    db.close();
  }
}

async function recordWithLongNames(newLongStep: boolean): Promise<{ database: string; runId: string }> {
  const database = tempDatabase();
  Object.assign(names, { step: "fetch", key: "keyed" });
  await using first = await createRuntime({ database, definitions: [longNames], logLevel: "silent" });
  const run = await first.start(longNames, { newLongStep });
  await waitingForSignal(first, run.id);
  await first.close();
  lengthenRecordedNames(database, run.id);
  Object.assign(names, { step: LONG_STEP, key: LONG_KEY });
  return { database, runId: run.id };
}

describe("the name limit on replay", () => {
  test("a history recorded with a step name and an op key over 1024 characters replays and completes", async () => {
    const { database, runId } = await recordWithLongNames(false);
    await using rt = await createRuntime({ database, definitions: [longNames], logLevel: "silent" });
    await rt.signal(runId, "go", "!");
    expect(await rt.result(runId, { timeout: "20s" })).toBe("ab!c");
    const ops = (await rt.inspect(runId)).ops;
    expect(ops.map((op) => [op.opKey.length, op.status])).toEqual([
      [`step:${LONG_STEP}:0`.length, "completed"],
      [LONG_KEY.length, "completed"],
      ["signal:go:0".length, "completed"],
    ]);
  }, 30_000);

  test("a new op with a name over 1024 characters still fails with the clear error, after the recorded ones replayed", async () => {
    const { database, runId } = await recordWithLongNames(true);
    await using rt = await createRuntime({ database, definitions: [longNames], logLevel: "silent" });
    await rt.signal(runId, "go", "!");
    const error = await rt.result(runId, { timeout: "20s" }).then(() => null, (e: { cause: { code?: string; message: string } }) => e.cause);
    expect(error).toMatchObject({
      code: "validation_failed",
      message: expect.stringContaining("the name given to ctx.step is 1300 characters long, more than the limit of 1024 characters"),
    });
  }, 30_000);

  test("through a worker process: the recorded long-named step replays and the run completes", async () => {
    // The worker imports the project's code, so the name it uses is read from a file the test switches.
    const namesFile = join(tempDir("vilano-names-"), "names.json");
    const project = writeProject({
      "src/flows.ts": `import { readFileSync } from "node:fs";
import { workflow } from "@vilano/runtime";
export const longNames = workflow({
  name: "longNames",
  run: async (input: { namesFile: string }, ctx) => {
    const { step } = JSON.parse(readFileSync(input.namesFile, "utf8"));
    const a = await ctx.step(step, () => "a");
    const go = await ctx.waitForSignal("go");
    return a + go;
  },
});
`,
    });
    const database = tempDatabase();
    writeFileSync(namesFile, JSON.stringify({ step: "fetch" }));
    const first = await createRuntime({ database, workers: 1, project, logLevel: "silent" });
    const run = await first.start("longNames", { namesFile } as never);
    await waitingForSignal(first, run.id);
    await first.close();
    const db = new Database(database);
    expect(db.query("UPDATE ops SET op_key = ?, name = ? WHERE run_id = ? AND op_key = ?").run(`step:${LONG_STEP}:0`, LONG_STEP, run.id, "step:fetch:0").changes).toBe(1);
    db.close();
    writeFileSync(namesFile, JSON.stringify({ step: LONG_STEP }));

    await using rt = await createRuntime({ database, workers: 1, project, logLevel: "silent" });
    await rt.signal(run.id, "go", "!");
    expect(await rt.result(run.id, { timeout: "30s" })).toBe("a!");
  }, 60_000);
});
