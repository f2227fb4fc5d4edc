/**
 * The runtime home (`VILANO_HOME`, default ~/.vilano): a 0700 folder holding the database, the
 * API token (0600, created once), `daemon.json` (pid, port, version, start time — no secrets),
 * logs and snapshots.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { isProcessAlive } from "./process-state.ts";
import { VilanoError } from "./errors.ts";

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

/**
 * A file as a reader must see it: whole or not at all. `writeFileSync` truncates first, so a
 * reader polling for the file (the CLI waiting for a daemon to come up) could read it empty.
 */
function writeWhole(path: string, text: string, replace: boolean): boolean {
  // Unique even between processes of different pid namespaces sharing a home.
  const temporary = `${path}.${process.pid}.${crypto.randomUUID()}.tmp`;
  try {
    const fd = openSync(temporary, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd); // on disk before it has a name: a power cut leaves the old file or this one, never an empty one
    } finally {
      closeSync(fd);
    }
    if (replace) renameSync(temporary, path);
    else linkSync(temporary, path); // fails if another process made the file first
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EEXIST") return false;
    // A file system without hard links: an exclusive create says who was first, as well.
    if (!replace && (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP")) {
      try {
        writeFileSync(path, text, { mode: 0o600, flag: "wx" });
        return true;
      } catch (again) {
        if ((again as { code?: string }).code === "EEXIST") return false;
        throw again;
      }
    }
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

const TOKEN_FORMAT = /^[0-9a-f]{64}$/;
const newToken = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");

/**
 * The API token, created on first use: 32 random bytes, hex, in a 0600 file. A token file that
 * does not hold one (emptied, edited by hand) is replaced when `repair` is set — the daemon does
 * so once it owns the database, so no two processes repair it at once — and is an error otherwise.
 */
export function readOrCreateToken(paths: HomePaths, options: { repair?: boolean } = {}): string {
  if (!existsSync(paths.token)) {
    // Two processes may create it at once: the first one's token is everyone's.
    writeWhole(paths.token, `${newToken()}\n`, false);
  }
  chmodSync(paths.token, 0o600);
  const token = readFileSync(paths.token, "utf8").trim();
  if (TOKEN_FORMAT.test(token)) return token;
  if (!options.repair) {
    throw new VilanoError("validation_failed", `the token file ${paths.token} does not hold a token (64 hex digits)`, {
      hint: "remove it; the daemon writes a new one when it starts",
    });
  }
  const fresh = newToken();
  writeWhole(paths.token, `${fresh}\n`, true);
  return fresh;
}

const DaemonInfoSchema = v.object({ pid: v.number(), port: v.number(), version: v.string(), startedAt: v.string() });
export type DaemonInfo = v.InferOutput<typeof DaemonInfoSchema>;

export function writeDaemonInfo(paths: HomePaths, info: DaemonInfo): void {
  writeWhole(paths.daemonJson, `${JSON.stringify(info, null, 2)}\n`, true);
}

/**
 * The running daemon's info, or null. A file naming a dead pid is removed; one that cannot be
 * read as daemon info is left alone (the next daemon replaces it) and counts as no daemon.
 */
export function readDaemonInfo(paths: HomePaths): DaemonInfo | null {
  if (!existsSync(paths.daemonJson)) return null;
  let info: DaemonInfo;
  try {
    const parsed = v.safeParse(DaemonInfoSchema, JSON.parse(readFileSync(paths.daemonJson, "utf8")));
    if (!parsed.success) return null;
    info = parsed.output;
  } catch {
    return null;
  }
  if (isProcessAlive(info.pid)) return info;
  // Only the file that named the dead pid: a daemon starting now may have replaced it meanwhile.
  removeDaemonInfo(paths, info.pid);
  return null;
}

export function removeDaemonInfo(paths: HomePaths, pid: number): void {
  let info: { pid?: number } | null = null;
  try {
    info = JSON.parse(readFileSync(paths.daemonJson, "utf8")) as { pid?: number };
  } catch {
    return; // gone, or not ours to judge
  }
  if (info?.pid === pid) rmSync(paths.daemonJson, { force: true });
}
