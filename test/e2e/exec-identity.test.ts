/**
 * `ctx.exec` through the daemon of the built executable: a subprocess is told its attempt, run and
 * op key but none of the daemon's own settings, and the artifacts it declared are kept under the
 * home even when it fails, times out or is cancelled.
 */
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";
import { writeProject } from "../helpers/project.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

const FLOWS = readFileSync(join(import.meta.dir, "..", "fixtures", "exec-flows.ts"), "utf8");
const artifactOf = (home: string, runId: string, opKey: string, attempt: number, path: string) =>
  join(home, "captures", encodeURIComponent(runId), `${encodeURIComponent(opKey)}.${attempt}`, "artifacts", path);

function daemonWithFlows() {
  const d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("project", "add", writeProject({ "src/flows.ts": FLOWS }), "--name", "ex").exitCode).toBe(0);
  d.pid();
  const start = (spec: unknown) => d.json<{ run: { id: string } }>("run", "start", "ex/execOnce", "--input", JSON.stringify(spec)).run.id;
  const result = (id: string) => d.json<{ run: { status: string; output?: any; error?: any } }>("run", "result", id, "--wait", "--timeout", "20s").run;
  return { ...d, start, result };
}

test("a subprocess gets its attempt, run id and op key, and never the daemon's VILANO_* settings", () => {
  const d = daemonWithFlows();
  const id = d.start({ name: "env", cmd: "sh", args: ["-c", 'env | grep "^VILANO_" | sort'] });
  const { output } = d.result(id);
  expect(output.stdout.trim().split("\n")).toEqual(["VILANO_EXEC_ATTEMPT=1", "VILANO_OP_KEY=exec:env:0", `VILANO_RUN_ID=${id}`]);
}, 30_000);

test("declared artifacts are kept under the home after a non-zero exit, a timeout and a cancel", async () => {
  const d = daemonWithFlows();
  const exited = d.start({ name: "exit", cmd: "sh", args: ["-c", "echo 'half a report' > report.txt; exit 2"], capture: { artifacts: ["report.txt"] } });
  expect(d.result(exited)).toMatchObject({ status: "failed" });
  expect(readFileSync(artifactOf(d.home, exited, "exec:exit:0", 1, "report.txt"), "utf8")).toBe("half a report\n");
  const inspection = d.json<{ ops: { error?: { details?: { artifacts?: unknown[] } } }[] }>("run", "inspect", exited);
  expect(inspection.ops[0]!.error!.details!.artifacts).toEqual([{ path: "report.txt", bytes: 14, truncated: false, stored: expect.stringContaining("artifacts/report.txt") }]);

  const timedOut = d.start({ name: "slow", cmd: "sh", args: ["-c", "echo started > progress.txt; exec sleep 30"], timeout: "300ms", capture: { artifacts: ["progress.txt"] } });
  expect(d.result(timedOut)).toMatchObject({ status: "failed" });
  expect(readFileSync(artifactOf(d.home, timedOut, "exec:slow:0", 1, "progress.txt"), "utf8")).toBe("started\n");

  const started = join(tempDir("vilano-out-"), "started");
  const cancelled = d.start({ name: "long", cmd: "sh", args: ["-c", 'echo so-far > progress.txt; touch "$STARTED"; exec sleep 30'], env: { STARTED: started }, capture: { artifacts: ["progress.txt"] } });
  await eventually(() => (existsSync(started) ? true : undefined), 10_000, "the subprocess to start");
  expect(d.json<{ run: { status: string } }>("run", "cancel", cancelled).run.status).toBe("cancelled");
  const kept = artifactOf(d.home, cancelled, "exec:long:0", 1, "progress.txt");
  await eventually(() => (existsSync(kept) ? true : undefined), 10_000, "the cancelled attempt's artifact");
  expect(readFileSync(kept, "utf8")).toBe("so-far\n");
}, 60_000);
