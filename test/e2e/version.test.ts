import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { LATEST_SCHEMA_VERSION } from "../../src/store/index.ts";
import { runCli } from "../helpers/binary.ts";

describe("vilano version (built executable)", () => {
  test("prints the package version, the Bun it embeds and the schema version", () => {
    const result = runCli(["version"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`vilano ${pkg.version} (bun 1.4.5, schema ${LATEST_SCHEMA_VERSION}, ${process.platform}-${process.arch})\n`);
  });

  test("with --json prints one JSON object on stdout and nothing on stderr", () => {
    const result = runCli(["version", "--json"]);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ok: true,
      version: pkg.version,
      bun: "1.4.5",
      schemaVersion: LATEST_SCHEMA_VERSION,
      platform: `${process.platform}-${process.arch}`,
    });
    expect(result.stderr).toBe("");
  });

  test("an unknown command exits non-zero and names the command", () => {
    const result = runCli(["frobnicate"]);
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('unknown command "frobnicate" for `vilano`');
  });
});
