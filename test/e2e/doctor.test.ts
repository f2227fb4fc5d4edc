import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { LATEST_SCHEMA_VERSION } from "../../src/store/index.ts";
import { MIGRATIONS } from "../../src/store/migrations.ts";
import { join } from "node:path";
import { runCli } from "../helpers/binary.ts";
import { tempDir } from "../helpers/temp-dir.ts";

test("vilano doctor finds a loose token file and a stale daemon.json, and --fix repairs them", () => {
  const home = tempDir("vilano-home-");
  writeFileSync(join(home, "token"), "abc\n");
  chmodSync(join(home, "token"), 0o644);
  writeFileSync(join(home, "daemon.json"), JSON.stringify({ pid: 2_147_483_000, port: 1, version: "0.0.0", startedAt: "x" }));
  const found = runCli(["doctor", "--json"], { home });
  expect(found.exitCode).toBe(1);
  const report = JSON.parse(found.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
  expect(report.checks.find((c) => c.name === "token")).toMatchObject({ ok: false, detail: `${join(home, "token")} is 644, should be 600 (--fix sets it)` });
  expect(report.checks.find((c) => c.name === "daemon")).toMatchObject({ ok: true, detail: "not running" });

  const fixed = runCli(["doctor", "--fix", "--json"], { home });
  expect(fixed.exitCode).toBe(0);
  expect(statSync(join(home, "token")).mode & 0o777).toBe(0o600);
  expect(runCli(["doctor"], { home }).exitCode).toBe(0);
});

test("vilano doctor without --fix writes nothing: an older schema is reported, not migrated; --fix migrates it", () => {
  const home = tempDir("vilano-home-");
  const path = join(home, "runtime.sqlite");
  // A database as a vilano of schema 4 left it.
  const db = new Database(path, { create: true });
  db.run("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  for (const m of MIGRATIONS.filter((m) => m.version <= 4)) db.run(m.sql);
  db.run("INSERT INTO meta (key, value) VALUES ('schema_version', '4')");
  db.close();
  chmodSync(path, 0o600);
  const before = readFileSync(path);

  const checked = runCli(["doctor", "--json"], { home });
  const report = JSON.parse(checked.stdout) as { checks: { name: string; ok: boolean; detail: string }[] };
  expect(report.checks.find((c) => c.name === "database" && c.detail.startsWith("integrity"))).toMatchObject({
    ok: true,
    detail: `integrity ok, schema 4 of ${LATEST_SCHEMA_VERSION} (older: the daemon or --fix migrates it)`,
  });
  expect(readFileSync(path).equals(before)).toBe(true);

  expect(runCli(["doctor", "--fix"], { home }).exitCode).toBe(0);
  const after = new Database(path, { readonly: true });
  expect(after.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'schema_version'").get()?.value).toBe(String(LATEST_SCHEMA_VERSION));
  after.close();
});
