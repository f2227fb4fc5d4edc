/**
 * A wait that runs out says so with the duration the user gave, in the user's unit ("did not
 * finish within 35s", never "within 9986" or "within 0"), as `wait_timeout` (exit 7): the run goes
 * on. `daemon_unavailable` stays for a daemon that did not answer. Through the built executable.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "../../src/client/index.ts";
import { BINARY } from "../helpers/binary.ts";
import { addApprovalProject, testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { eventually } from "../helpers/temp-dir.ts";

let d: TestDaemon;

beforeAll(() => {
  d = testDaemon({ VILANO_WORKERS: "1" });
  addApprovalProject(d);
}, 120_000);

/** The CLI's JSON error for a command expected to fail (exit code and error). */
function failure(...args: string[]): { exit: number; code: string; message: string } {
  const result = d.cli(...args, "--json");
  const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
  return { exit: result.exitCode, code: error.code, message: error.message };
}

describe("timeout messages (built executable)", () => {
  test("run start --wait --timeout 300ms: wait_timeout within 300ms, not within 0", () => {
    expect(failure("run", "start", "w/approval", "--wait", "--timeout", "300ms")).toEqual({
      exit: 7,
      code: "wait_timeout",
      message: expect.stringMatching(/^run \S+ did not finish within 300ms; it goes on running$/),
    });
  }, 60_000);

  test("run start --wait --timeout 1ms: the run starts and the wait times out; the daemon did answer", () => {
    const before = d.json<{ runs: unknown[] }>("run", "list").runs.length;
    expect(failure("run", "start", "w/approval", "--wait", "--timeout", "1ms")).toEqual({
      exit: 7,
      code: "wait_timeout",
      message: expect.stringMatching(/did not finish within 1ms; it goes on running$/),
    });
    expect(d.json<{ runs: unknown[] }>("run", "list").runs.length).toBe(before + 1);
  }, 60_000);

  test("run result --wait --timeout 1ms: wait_timeout within 1ms", async () => {
    const { run } = d.json<{ run: { id: string } }>("run", "start", "w/approval");
    await eventually(() => (d.json<{ run: { status: string } }>("run", "inspect", run.id).run.status === "waiting" ? true : undefined), 20_000, "the run to wait");
    expect(failure("run", "result", run.id, "--wait", "--timeout", "1ms")).toEqual({
      exit: 7,
      code: "wait_timeout",
      message: `run ${run.id} did not finish within 1ms; it goes on running`,
    });
  }, 60_000);

  test("run start --wait --timeout 26s (past one request's wait): within 26s, not the milliseconds left", async () => {
    const proc = Bun.spawn([BINARY, "run", "start", "w/approval", "--wait", "--timeout", "26s", "--json"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: d.home, VILANO_HOME: d.home, VILANO_PORT: String(d.port), NO_COLOR: "1", TZ: "UTC", ...d.env },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await proc.exited).toBe(7);
    const { error } = JSON.parse(await new Response(proc.stdout).text()) as { error: { code: string; message: string } };
    expect(error).toEqual({ code: "wait_timeout", message: expect.stringMatching(/did not finish within 26s; it goes on running$/) });
  }, 120_000);

  test("the client's result with a timeout in milliseconds says it with a unit", async () => {
    const { run } = d.json<{ run: { id: string } }>("run", "start", "w/approval");
    const client = createClient({ home: d.home });
    const error = await client.runs.result(run.id, { timeout: 1500 }).then(
      () => undefined,
      (e: unknown) => e as { code: string; message: string },
    );
    expect(error).toMatchObject({ code: "wait_timeout", message: `run ${run.id} did not finish within 1s500ms; it goes on running` });
  }, 60_000);
});
