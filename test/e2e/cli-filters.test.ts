/**
 * List filters and JSON inputs are checked before anything is asked of the daemon, in the CLI and
 * in the API alike: a status, project or workflow name that cannot match anything is an error
 * naming the bad value (and, for a status, the valid ones), never an empty success; input nested
 * deeper than the API takes is a usage error, never a stack overflow. Through the built executable.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { testDaemon, type TestDaemon } from "../helpers/daemon.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const STATUSES = "pending, running, waiting, completed, failed, cancelled, idle, active, stopped";
let d: TestDaemon;

beforeAll(() => {
  d = testDaemon({ VILANO_WORKERS: "1" });
  expect(d.cli("daemon", "start").exitCode).toBe(0);
}, 120_000);

/** A GET on the daemon's API with the home's token. */
async function api(path: string): Promise<{ status: number; body: { ok: boolean; error?: { code: string; message: string }; runs?: unknown[] } }> {
  const token = readFileSync(join(d.home, "token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${d.port}${path}`, { headers: { "x-vilano-token": token } });
  return { status: res.status, body: (await res.json()) as never };
}

describe("run list filters (built executable)", () => {
  test("an unknown --status is a usage error naming it and listing the valid ones", () => {
    const listed = d.cli("run", "list", "--status", "bogus", "--json");
    expect(listed.exitCode).toBe(2);
    const error = JSON.parse(listed.stdout).error;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('--status "bogus"');
    expect(error.message).toContain(STATUSES);
    expect(d.cli("run", "list", "--status", "waiting", "--json").exitCode).toBe(0);
  }, 60_000);

  test("a --project that no project can be named is a usage error naming it", () => {
    const listed = d.cli("run", "list", "--project", "No Such/Project", "--json");
    expect(listed.exitCode).toBe(2);
    expect(JSON.parse(listed.stdout).error.message).toContain('--project "No Such/Project"');
  }, 60_000);

  test("the API refuses a status, project, workflow, limit or cursor that cannot match, naming the value", async () => {
    const cases: [string, string][] = [
      ["status=%00", '"\\u0000" is not a run status; use one of ' + STATUSES],
      ["status=bogus", '"bogus" is not a run status'],
      ["project=%00", '"\\u0000" is not a project name'],
      ["workflow=a%20b", '"a b" is not a workflow or service name'],
      ["limit=0", '"0" is not a whole number from 1 to 9999'],
      ["limit=abc", '"abc" is not a whole number from 1 to 9999'],
      ["cursor=garbage", 'invalid cursor "garbage"'],
    ];
    for (const [query, message] of cases) {
      const { status, body } = await api(`/v1/runs?${query}`);
      expect({ query, status, code: body.error?.code }).toEqual({ query, status: 400, code: "validation_failed" });
      expect(body.error!.message).toContain(message);
    }
    const fine = await api("/v1/runs?status=completed&project=agent&workflow=reviewCoordinator&kind=workflow&limit=5");
    expect(fine).toMatchObject({ status: 200, body: { ok: true, runs: [] } });
  }, 60_000);
});

describe("JSON inputs nested too deep (built executable)", () => {
  test("--input @file nested 100,000 deep is a usage error saying how deep is allowed, not a crash", () => {
    const file = join(tempDir(), "deep.json");
    writeFileSync(file, "[".repeat(100_000) + "]".repeat(100_000));
    for (const args of [
      ["run", "start", "agent/reviewCoordinator", "--input", `@${file}`, "--json"],
      ["service", "send", "agent/reviewer", "hint", "--key", "k", "--input", `@${file}`, "--json"],
    ]) {
      const started = d.cli(...args);
      expect(started.exitCode).toBe(2);
      const error = JSON.parse(started.stdout).error;
      expect(error.code).toBe("validation_failed");
      expect(error.message).toContain(`--input (read from file ${file}) is nested more than 512 levels deep`);
      expect(error.message.length).toBeLessThan(600);
    }
    const piped = d.cliWithStdin("[".repeat(100_000) + "]".repeat(100_000), "run", "start", "agent/reviewCoordinator", "--input", "-");
    expect(piped.exitCode).toBe(2);
    expect(piped.stderr).toContain("--input (read from standard input) is nested more than 512 levels deep");
    expect(piped.stderr).not.toContain("Maximum call stack");
  }, 60_000);
});
