import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/shared/index.ts";

describe("loadConfig", () => {
  test("reads the home, log level and port from the environment", () => {
    expect(loadConfig({ VILANO_HOME: "/tmp/vh", VILANO_LOG_LEVEL: "debug", VILANO_PORT: "5151" })).toEqual({
      home: "/tmp/vh",
      logLevel: "debug",
      databasePath: "/tmp/vh/runtime.sqlite",
      port: 5151,
    });
  });

  test("defaults to ~/.vilano, info and port 4141", () => {
    const config = loadConfig({ HOME: "/home/someone" });
    expect(config.logLevel).toBe("info");
    expect(config.port).toBe(4141);
    expect(config.home.endsWith(".vilano")).toBe(true);
  });

  test("an invalid value is an error naming the variable", () => {
    expect(() => loadConfig({ VILANO_PORT: "80000" })).toThrow("invalid environment variable VILANO_PORT: must be at most 65535");
    expect(() => loadConfig({ VILANO_LOG_LEVEL: "loud" })).toThrow("invalid environment variable VILANO_LOG_LEVEL: must be one of silent, error, warn, info, debug");
  });
});
