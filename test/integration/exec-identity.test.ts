/**
 * What a `ctx.exec` subprocess is told about itself (its attempt, run and op key, and nothing of the
 * runtime's own settings), and the declared artifacts a failed attempt carries — in this process
 * and through worker processes.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Runtime } from "../../src/embedded/index.ts";
import { writeProject } from "../helpers/project.ts";
import { runtimeModes } from "../helpers/runtime-modes.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "exec-flows.ts"), "utf8");
const project = writeProject({ "src/flows.ts": FLOWS });
/** A runtime made while this process has a setting of the runtime's own, which must not reach subprocesses. */
async function withLeakBait(make: () => Promise<Runtime>): Promise<Runtime> {
  process.env.VILANO_LEAK_BAIT = "must-not-reach-user-code";
  try {
    return await make();
  } finally {
    delete process.env.VILANO_LEAK_BAIT;
  }
}

const modes = runtimeModes(project, 1).map(([mode, make]) => [mode, () => withLeakBait(() => make())] as const);

describe.each(modes)("ctx.exec identity and failed attempts' artifacts (%s)", (_mode, make) => {
  async function open() {
    const rt = await make();
    const run = async (spec: Record<string, unknown>) => {
      const handle = await rt.start("execOnce", spec as never);
      const outcome: { ok: boolean; output?: any; error?: any } = await handle.result({ timeout: "20s" }).then(
        (output) => ({ ok: true, output }),
        (error: { cause: unknown }) => ({ ok: false, error: error.cause }),
      );
      const inspection = await rt.inspect(handle.id);
      return { ...outcome, id: handle.id, opError: inspection.ops[0]?.error as any, inspection };
    };
    return { rt, run };
  }

  test("a subprocess gets VILANO_EXEC_ATTEMPT (1-based), VILANO_RUN_ID and VILANO_OP_KEY, and no other VILANO_* variable", async () => {
    const { run } = await open();
    const { output, id } = await run({
      name: "who",
      cmd: "sh",
      // Fails its first attempt, so the second one shows the attempt number growing.
      args: ["-c", 'env | grep "^VILANO_" | sort; [ "$VILANO_EXEC_ATTEMPT" = 2 ]'],
      retry: { retries: 1, backoff: "0ms", on: ["process_exit"] },
    });
    expect(output.stdout.trim().split("\n")).toEqual(["VILANO_EXEC_ATTEMPT=2", "VILANO_OP_KEY=exec:who:0", `VILANO_RUN_ID=${id}`]);
  });

  test("a spec's env may not set the three variables the runtime gives", async () => {
    const { run } = await open();
    const { error } = await run({ name: "forge", cmd: "true", env: { VILANO_RUN_ID: "someone-else" } });
    expect(error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("VILANO_RUN_ID") });
  });

  test("declared artifacts are collected after a non-zero exit and after a timeout, and the failure carries them", async () => {
    const { rt, run } = await open();
    const exited = await run({ name: "fails", cmd: "sh", args: ["-c", "echo 'half a report' > report.txt; exit 2"], capture: { artifacts: ["report.txt", "never.txt"] } });
    expect(exited.opError).toMatchObject({ family: "process_exit", details: { exitCode: 2 } });
    expect(exited.opError.details.artifacts).toEqual([{ path: "report.txt", bytes: 14, truncated: false, stored: expect.stringMatching(/^captures\/.+\/artifacts\/report\.txt$/) }]);
    // The ExecFailedError the workflow catches carries that failure body as its cause.
    const caught = await (await rt.start("execCaught", { name: "fails", cmd: "sh", args: ["-c", "echo partial > report.txt; exit 2"], capture: { artifacts: ["report.txt"] } } as never)).result({ timeout: "20s" });
    expect(caught).toMatchObject({ ok: false, name: "ExecFailedError", cause: { family: "process_exit", details: { artifacts: [{ path: "report.txt", bytes: 8, truncated: false }] } } });

    const timedOut = await run({ name: "slow", cmd: "sh", args: ["-c", "echo started > progress.txt; exec sleep 30"], timeout: "300ms", capture: { artifacts: ["progress.txt"] } });
    expect(timedOut.opError).toMatchObject({ family: "timeout" });
    expect(timedOut.opError.details.artifacts).toEqual([{ path: "progress.txt", bytes: 8, truncated: false, stored: expect.stringMatching(/artifacts\/progress\.txt$/) }]);
  });
});
