/**
 * The runtime home (`VILANO_HOME`, default ~/.vilano): a 0700 folder holding the database, the
 * API token (0600, created once), `daemon.json` (pid, port, version, start time — no secrets),
 * logs and snapshots.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { isProcessAlive } from "./process-state.ts";

export const DEFAULT_PORT = 4141;

export interface HomePaths {
  home: string;
  token: string;
  daemonJson: string;
  logs: string;
  daemonLog: string;
}

export function homePaths(home: string): HomePaths {
  return {
    home,
    token: join(home, "token"),
    daemonJson: join(home, "daemon.json"),
    logs: join(home, "logs"),
    daemonLog: join(home, "logs", "daemon.log"),
  };
}

export function ensureHome(home: string): HomePaths {
  const paths = homePaths(home);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  mkdirSync(paths.logs, { recursive: true, mode: 0o700 });
  return paths;
}

/** The API token, created on first use: 32 random bytes, hex, in a 0600 file. */
export function readOrCreateToken(paths: HomePaths): string {
  if (existsSync(paths.token)) {
    chmodSync(paths.token, 0o600);
    return readFileSync(paths.token, "utf8").trim();
  }
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
  writeFileSync(paths.token, `${token}\n`, { mode: 0o600 });
  return token;
}

const DaemonInfoSchema = v.object({ pid: v.number(), port: v.number(), version: v.string(), startedAt: v.string() });
export type DaemonInfo = v.InferOutput<typeof DaemonInfoSchema>;

export function writeDaemonInfo(paths: HomePaths, info: DaemonInfo): void {
  writeFileSync(paths.daemonJson, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}


/** The running daemon's info; a stale file (dead pid, unreadable) is removed and null returned. */
export function readDaemonInfo(paths: HomePaths): DaemonInfo | null {
  if (!existsSync(paths.daemonJson)) return null;
  let info: DaemonInfo | null = null;
  try {
    const parsed = v.safeParse(DaemonInfoSchema, JSON.parse(readFileSync(paths.daemonJson, "utf8")));
    if (parsed.success) info = parsed.output;
  } catch {
    info = null;
  }
  if (info && isProcessAlive(info.pid)) return info;
  rmSync(paths.daemonJson, { force: true });
  return null;
}

export function removeDaemonInfo(paths: HomePaths, pid: number): void {
  const info = existsSync(paths.daemonJson) ? (JSON.parse(readFileSync(paths.daemonJson, "utf8")) as { pid?: number }) : null;
  if (info?.pid === pid) rmSync(paths.daemonJson, { force: true });
}
