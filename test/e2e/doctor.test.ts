import { expect, test } from "bun:test";
import { chmodSync, statSync, writeFileSync } from "node:fs";
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
