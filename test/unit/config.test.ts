import { describe, expect, test } from "bun:test";
import { loadConfig, workspacesRootFor } from "../../src/shared/index.ts";

describe("loadConfig", () => {
  test("reads the home, log level, port and worker settings from the environment", () => {
    const env = {
      VILANO_HOME: "/tmp/vh",
      VILANO_LOG_LEVEL: "debug",
      VILANO_PORT: "5151",
      VILANO_WORKERS: "3",
      VILANO_WORKER_LEASE: "2s",
      VILANO_IMPORT_TIMEOUT: "1m",
      VILANO_DAEMON_LEASE: "3s",
      VILANO_MAX_VALUE_BYTES: "65536",
      VILANO_MAX_CONNECTIONS: "2048",
      VILANO_MAX_STREAMS: "100",
    };
    expect(loadConfig(env)).toEqual({
      home: "/tmp/vh",
      logLevel: "debug",
      databasePath: "/tmp/vh/runtime.sqlite",
      database: "/tmp/vh/runtime.sqlite",
      port: 5151,
      workers: 3,
      workerLeaseMs: 2_000,
      importTimeoutMs: 60_000,
      daemonLeaseMs: 3_000,
      maxValueBytes: 65_536,
      maxConnections: 2048,
      maxStreams: 100,
      workspacesBase: `/tmp/vilano-${process.getuid!()}`,
      workspacesBaseIsPrivate: true,
      workspaces: expect.stringMatching(new RegExp(`^/tmp/vilano-${process.getuid!()}/vh-[0-9a-f]{12}$`)),
      environment: env,
    });
  });

  test("workspaces go under TMPDIR or VILANO_WORKSPACES, one folder per home, never inside the home that holds the token", () => {
    const a = loadConfig({ VILANO_HOME: "/srv/a/.vilano", TMPDIR: "/scratch" });
    expect(a.workspaces).toMatch(new RegExp(`^/scratch/vilano-${process.getuid!()}/vilano-[0-9a-f]{12}$`));
    expect(loadConfig({ VILANO_HOME: "/srv/b/.vilano", TMPDIR: "/scratch" }).workspaces).not.toBe(a.workspaces);
    const chosen = loadConfig({ VILANO_HOME: "/srv/a/.vilano", VILANO_WORKSPACES: "/big/disk" });
    expect(chosen).toMatchObject({ workspacesBase: "/big/disk", workspacesBaseIsPrivate: false, workspaces: expect.stringMatching(/^\/big\/disk\/vilano-[0-9a-f]{12}$/) });
    expect(() => loadConfig({ VILANO_HOME: "/srv/a/.vilano", VILANO_WORKSPACES: "/srv/a/.vilano/ws" })).toThrow("invalid environment variable VILANO_WORKSPACES: it puts workspaces inside VILANO_HOME");
    expect(() => loadConfig({ VILANO_HOME: "/srv/a/.vilano", TMPDIR: "/srv/a/.vilano" })).toThrow("invalid environment variable TMPDIR");
    expect(() => loadConfig({ VILANO_WORKSPACES: "relative/ws" })).toThrow("invalid environment variable VILANO_WORKSPACES: must be an absolute path");
  });

  test("a home reached through a link is held against the base by where the link leads", () => {
    // /home/u/.vilano is a link to /data/vh; the base /data/vh/ws is inside it, though not by name.
    expect(workspacesRootFor("/big/disk", "/home/u/.vilano", "VILANO_WORKSPACES", "/data/vh")).toMatch(/^\/big\/disk\/vilano-[0-9a-f]{12}$/);
    expect(() => workspacesRootFor("/data/vh/ws", "/home/u/.vilano", "VILANO_WORKSPACES", "/data/vh")).toThrow("invalid environment variable VILANO_WORKSPACES: it puts workspaces inside VILANO_HOME");
  });

  test("VILANO_DATABASE_URL names a PostgreSQL database for the daemon; anything but a postgres:// URL is refused by name", () => {
    expect(loadConfig({ VILANO_HOME: "/tmp/vh", VILANO_DATABASE_URL: "postgres://u:p@db.example:5432/vilano" }).database).toBe("postgres://u:p@db.example:5432/vilano");
    expect(loadConfig({ VILANO_HOME: "/tmp/vh", VILANO_DATABASE_URL: "" }).database).toBe("/tmp/vh/runtime.sqlite");
    expect(() => loadConfig({ VILANO_DATABASE_URL: "mysql://x/y" })).toThrow("invalid environment variable VILANO_DATABASE_URL: must be a postgres:// URL");
  });

  test("defaults to at least two workers, a 5s worker lease and a 10s import limit", () => {
    const config = loadConfig({});
    expect(config.workers).toBeGreaterThanOrEqual(2);
    expect(config.workerLeaseMs).toBe(5_000);
    expect(config.importTimeoutMs).toBe(10_000);
    expect(config.maxValueBytes).toBe(4 * 1024 * 1024);
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
    expect(() => loadConfig({ VILANO_WORKERS: "0" })).toThrow("invalid environment variable VILANO_WORKERS: must be at least 1");
    expect(() => loadConfig({ VILANO_MAX_VALUE_BYTES: "12" })).toThrow("invalid environment variable VILANO_MAX_VALUE_BYTES: must be at least 1024");
    expect(() => loadConfig({ VILANO_WORKER_LEASE: "soon" })).toThrow('invalid environment variable VILANO_WORKER_LEASE: must be a duration such as "5s"');
  });
});
