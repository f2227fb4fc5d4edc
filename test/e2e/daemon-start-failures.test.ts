/**
 * `daemon start` says why a daemon did not start, with the exit code of the reason, and leaves the
 * database free for the next start.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { testDaemon } from "../helpers/daemon.ts";

test("a port in use: the reason itself, exit 4, and the database is free for the next start", () => {
  const d = testDaemon();
  const holder = Bun.serve({ hostname: "127.0.0.1", port: d.port, fetch: () => new Response("taken") });
  try {
    const failed = d.cli("daemon", "start", "--json");
    expect(failed.exitCode).toBe(4);
    expect(JSON.parse(failed.stdout).error).toEqual({ code: "conflict", message: `the daemon did not start: port ${d.port} on 127.0.0.1 is already in use; choose another with --port or VILANO_PORT` });
  } finally {
    holder.stop(true);
  }
  expect(d.cli("daemon", "start").exitCode).toBe(0);
  d.pid();
}, 60_000);

test("a file that is not a database: the reason itself, not a pointer to the log", () => {
  const d = testDaemon();
  writeFileSync(join(d.home, "runtime.sqlite"), "this is not a database");
  const failed = d.cli("daemon", "start");
  expect(failed.exitCode).toBe(5);
  expect(failed.stderr).toContain("the daemon did not start: cannot open database");
  expect(failed.stderr).toContain("file is not a database");
}, 60_000);
