/**
 * daemon.json and the token are read by other processes while they are written: the CLI polls for
 * daemon.json while a daemon comes up. A reader must never see half a file, and must never delete
 * a file it merely caught being written (that left a daemon up that no CLI could find).
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { ensureHome, readDaemonInfo, readOrCreateToken, writeDaemonInfo } from "../../src/shared/home.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const info = (pid: number) => ({ pid, port: 4141, version: "0.1.0", startedAt: new Date(0).toISOString() });

describe("files in the runtime home", () => {
  test("a daemon.json caught half-written counts as no daemon and is left for its writer", () => {
    const paths = ensureHome(tempDir("vilano-home-"));
    for (const partial of ["", '{"pid": ', '{"pid": 1}']) {
      writeFileSync(paths.daemonJson, partial);
      expect(readDaemonInfo(paths)).toBeNull();
      expect(readFileSync(paths.daemonJson, "utf8")).toBe(partial);
    }
  });

  test("a daemon.json naming a dead pid is removed; one naming a live pid is read", () => {
    const paths = ensureHome(tempDir("vilano-home-"));
    const dead = Bun.spawnSync(["true"]).pid;
    writeDaemonInfo(paths, info(dead));
    expect(readDaemonInfo(paths)).toBeNull();
    expect(existsSync(paths.daemonJson)).toBe(false);
    writeDaemonInfo(paths, info(process.pid));
    expect(readDaemonInfo(paths)).toEqual(info(process.pid));
  });

  test("daemon.json is replaced whole, private, with no temporary file left behind", () => {
    const paths = ensureHome(tempDir("vilano-home-"));
    writeDaemonInfo(paths, info(process.pid));
    writeDaemonInfo(paths, { ...info(process.pid), port: 5151 });
    expect(readDaemonInfo(paths)?.port).toBe(5151);
    expect(statSync(paths.daemonJson).mode & 0o777).toBe(0o600);
    expect(readdirSync(paths.home).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("the token is created once; a later call, or another process, gets the same one", () => {
    const paths = ensureHome(tempDir("vilano-home-"));
    const first = readOrCreateToken(paths);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(readOrCreateToken(paths)).toBe(first);
    const other = Bun.spawnSync(["bun", "-e", `import { readOrCreateToken, homePaths } from "${import.meta.dir}/../../src/shared/home.ts"; process.stdout.write(readOrCreateToken(homePaths(${JSON.stringify(paths.home)})))`]);
    expect(other.stdout.toString()).toBe(first);
    expect(statSync(paths.token).mode & 0o777).toBe(0o600);
  });

  test("a token file without a token is an error for readers and is replaced by the daemon (repair)", () => {
    const paths = ensureHome(tempDir("vilano-home-"));
    for (const damaged of ["", "\n", "not-a-token"]) {
      writeFileSync(paths.token, damaged);
      expect(() => readOrCreateToken(paths)).toThrow("does not hold a token");
      const repaired = readOrCreateToken(paths, { repair: true });
      expect(repaired).toMatch(/^[0-9a-f]{64}$/);
      expect(readFileSync(paths.token, "utf8").trim()).toBe(repaired);
      expect(readOrCreateToken(paths)).toBe(repaired);
    }
    expect(readdirSync(paths.home).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
