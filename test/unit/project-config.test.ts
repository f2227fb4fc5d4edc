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

describe("vilano.toml [worker] spare workers", () => {
  test("default to two spares, once a worker holding work has been silent 3s", () => {
    expect(parseProjectConfig("")).toMatchObject({ spareWorkers: 2, spareAfterMs: 3_000 });
  });

  test("are set by spare_workers and spare_after", () => {
    expect(parseProjectConfig('[worker]\nspare_workers = 0\nspare_after = "2s"\n')).toMatchObject({ spareWorkers: 0, spareAfterMs: 2_000 });
    expect(parseProjectConfig('[worker]\nspare_workers = 5\nspare_after = "1m"\n')).toMatchObject({ spareWorkers: 5, spareAfterMs: 60_000 });
  });

  test("anything else is an error naming the field and what it must be", () => {
    expect(() => parseProjectConfig("[worker]\nspare_workers = -1\n")).toThrow(/worker\.spare_workers.*must be at least 0/);
    expect(() => parseProjectConfig("[worker]\nspare_workers = 1.5\n")).toThrow(/worker\.spare_workers.*must be a whole number/);
    expect(() => parseProjectConfig('[worker]\nspare_workers = "2"\n')).toThrow(/worker\.spare_workers.*must be a whole number/);
    expect(() => parseProjectConfig("[worker]\nspare_workers = 65\n")).toThrow(/worker\.spare_workers.*must be at most 64/);
    expect(() => parseProjectConfig('[worker]\nspare_after = "soon"\n')).toThrow(/worker\.spare_after.*must be a duration such as "3s"/);
    expect(() => parseProjectConfig("[worker]\nspare_after = 3\n")).toThrow(/worker\.spare_after.*must be a duration such as "3s"/);
    expect(() => parseProjectConfig('[worker]\nspare_after = "500ms"\n')).toThrow(/worker\.spare_after.*must be at least 2s/);
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
