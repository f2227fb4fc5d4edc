import { describe, expect, test } from "bun:test";
import { parseProjectConfig } from "../../src/project/index.ts";

describe("vilano.toml [worker] workspace settings", () => {
  test("default to a fresh directory per activation, removed when it ends", () => {
    expect(parseProjectConfig("")).toMatchObject({ workspace: "activation", keepWorkspace: false });
  });

  test("opt into one shared directory, or keeping each activation's", () => {
    expect(parseProjectConfig('[worker]\nworkspace = "shared"\n')).toMatchObject({ workspace: "shared", keepWorkspace: false });
    expect(parseProjectConfig("[worker]\nkeep_workspace = true\n")).toMatchObject({ workspace: "activation", keepWorkspace: true });
  });

  test("anything else is an error naming the field", () => {
    expect(() => parseProjectConfig('[worker]\nworkspace = "per-run"\n')).toThrow(/worker\.workspace.*must be "activation".*or "shared"/);
    expect(() => parseProjectConfig('[worker]\nkeep_workspace = "yes"\n')).toThrow(/worker\.keep_workspace.*must be true or false/);
  });
});

describe("vilano.toml [worker] user", () => {
  test("is the daemon's own user (null) unless named", () => {
    expect(parseProjectConfig("").user).toBeNull();
    expect(parseProjectConfig('[worker]\nuser = "vilano-worker"\n').user).toBe("vilano-worker");
  });

  test("anything but a user name is an error naming the field", () => {
    expect(() => parseProjectConfig('[worker]\nuser = "../etc"\n')).toThrow(/worker\.user.*must be a user name/);
    expect(() => parseProjectConfig("[worker]\nuser = 1000\n")).toThrow(/worker\.user.*must be a user name/);
  });
});
