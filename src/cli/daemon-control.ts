/**
 * Starting and finding the background daemon. The CLI spawns this same executable in `daemon run`
 * mode, detached from the terminal, with its output in the home's log, and waits until its health
 * check answers. Mutating commands call `ensureDaemon` first.
 *
 * A daemon that does not answer is not necessarily dead: if its pid is alive and holds the
 * database it is busy (or stopped with SIGSTOP), and it is never replaced — a second daemon could
 * not open the database anyway. Only a daemon.json whose pid is dead, or alive but not the
 * database's owner (a reused pid), is stale and removed.
 */
import { openSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createClient, healthOf } from "../client/index.ts";
import { ensureHome, homePaths, readDaemonInfo, removeDaemonInfo, type DaemonInfo } from "../shared/home.ts";
import { formatDuration, isErrorCode, isProcessAlive, loadConfig, parseDuration, signalProcess, splitSettings, VilanoError } from "../shared/index.ts";
import { readDatabaseOwner } from "../store/index.ts";

/** argv that runs this program again: the compiled executable, or bun + the entry script. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

export function currentHome(): string {
  return loadConfig().home;
}

const DEFAULT_TIMEOUT_MS = 30_000;
let requestTimeoutMs = DEFAULT_TIMEOUT_MS;

/** `--timeout`: how long this command waits for the daemon (every request, and a busy daemon). */
export function setRequestTimeout(value: string | undefined): void {
  requestTimeoutMs = value === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(value, "--timeout");
}

export const requestTimeout = (): number => requestTimeoutMs;

const databaseOf = (home: string) => join(home, "runtime.sqlite");

/** A client for the daemon of the current home, with this command's request timeout. */
export function daemonClient() {
  return createClient({ home: currentHome(), timeout: requestTimeoutMs });
}

export const timeoutArg = {
  type: "string",
  description: "How long to wait for the daemon before giving up (default 30s)",
} as const;


/** Whether our daemon (the pid in daemon.json) answers on its port. */
async function answers(info: DaemonInfo, timeoutMs = 1_000): Promise<boolean> {
  try {
    return (await healthOf(`http://127.0.0.1:${info.port}`, timeoutMs)).pid === info.pid;
  } catch {
    return false;
  }
}

export type DaemonState =
  | { state: "running"; info: DaemonInfo }
  /** Alive and holding the database, but not answering: busy, or stopped with SIGSTOP. */
  | { state: "busy"; info: DaemonInfo }
  | { state: "stopped" };

/** Whether `pid` is a `vilano daemon run` process (Linux: its command line; false where that cannot be read). */
function isDaemonProcess(pid: number): boolean {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const at = args.indexOf("daemon");
    return at >= 0 && args[at + 1] === "run";
  } catch {
    return false;
  }
}

export async function daemonState(home: string): Promise<DaemonState> {
  const paths = homePaths(home);
  const info = readDaemonInfo(paths);
  if (!info) return { state: "stopped" };
  if (await answers(info)) return { state: "running", info };
  // The SQLite file names its owner; a daemon on PostgreSQL is known by its command line.
  if (readDatabaseOwner(databaseOf(home)) === info.pid || isDaemonProcess(info.pid)) return { state: "busy", info };
  // Alive, silent and not the database's owner: a pid reused by an unrelated process. Never signal it.
  removeDaemonInfo(paths, info.pid);
  return { state: "stopped" };
}

/** The running daemon (null when there is none); a busy one counts as running. */
export async function runningDaemon(home: string): Promise<DaemonInfo | null> {
  const s = await daemonState(home);
  return s.state === "stopped" ? null : s.info;
}

/** How long `daemon start` waits for a new daemon to answer. */
const START_DEADLINE_MS = 15_000;
/** How long a start whose daemon exited looks for another daemon coming up before it reports the failure. */
const RIVAL_GRACE_MS = 1_000;

/** Starts the line a failed `daemon run` writes to its log: the error's code and message, as JSON. */
export const START_FAILURE_TAG = "vilano-start-failure ";

/** Why the daemon did not start, from what it wrote to its log since `offset`: its own error, or its last lines. */
function startFailure(path: string, offset: number): VilanoError {
  const hint = `the whole log is ${path}`;
  let lines: string[] = [];
  try {
    lines = readFileSync(path, "utf8").slice(offset).trimEnd().split("\n").filter((l) => l.trim() !== "");
  } catch {
    // No log: say what is known.
  }
  const tagged = lines.findLast((l) => l.startsWith(START_FAILURE_TAG));
  if (tagged) {
    try {
      const { code, message } = JSON.parse(tagged.slice(START_FAILURE_TAG.length)) as { code: string; message: string };
      if (isErrorCode(code)) return new VilanoError(code, `the daemon did not start: ${message}`, { hint });
    } catch {
      // Not the line we wrote: fall back to the last lines.
    }
  }
  const last = lines.filter((l) => !l.startsWith(START_FAILURE_TAG)).slice(-5).join("\n");
  return new VilanoError("internal", `the daemon did not start${last ? `:\n${last}` : ""}`, { hint });
}

export async function startDaemonProcess(home: string, port = loadConfig().port, workers?: number): Promise<DaemonInfo> {
  const paths = ensureHome(home);
  const current = await daemonState(home);
  if (current.state !== "stopped") return current.info;
  const owner = readDatabaseOwner(databaseOf(home));
  if (owner !== null && owner !== process.pid && isProcessAlive(owner)) {
    throw new VilanoError("conflict", `the database in ${home} is in use by process ${owner}, which is not a daemon this home knows; stop it first`, {
      details: { pid: owner },
    });
  }
  const logOffset = (() => {
    try {
      return statSync(paths.daemonLog).size;
    } catch {
      return 0;
    }
  })();
  const log = openSync(paths.daemonLog, "a", 0o600);
  // The daemon's settings go on its standard input, not in its environment: a process's environment
  // is readable by every process of its user for as long as it runs (see shared/settings-handover.ts).
  const { settings, rest } = splitSettings(process.env);
  const child = Bun.spawn([...selfCommand(), "daemon", "run", "--settings-stdin", "--port", String(port), ...(workers === undefined ? [] : ["--workers", String(workers)])], {
    env: rest,
    stdin: new Blob([JSON.stringify({ ...settings, VILANO_HOME: home })]),
    stdout: log,
    stderr: log,
  });
  child.unref();
  const deadline = Date.now() + START_DEADLINE_MS;
  let exitedAt: number | null = null;
  while (Date.now() < deadline) {
    const info = readDaemonInfo(paths);
    if (info && info.pid === child.pid && (await answers(info))) return info;
    if (child.exitCode !== null) {
      // Lost a race with another start: the daemon that won is as good, once it answers. On a
      // loaded machine it may still be opening the database (it owns it, but has not written
      // daemon.json yet) when this one gives up: such a rival is waited for, until the deadline.
      const other = await daemonState(home);
      if (other.state === "running") return other.info;
      exitedAt ??= Date.now();
      const owner = readDatabaseOwner(databaseOf(home));
      const rival = other.state === "busy" || (owner !== null && owner !== child.pid && isProcessAlive(owner));
      if (!rival && Date.now() - exitedAt > RIVAL_GRACE_MS) break;
    }
    await Bun.sleep(25);
  }
  if (child.exitCode === null) {
    // Still starting on a loaded machine, or stuck: say so rather than guess; it is left running.
    throw new VilanoError(
      "daemon_unavailable",
      `the daemon (pid ${child.pid}) has not answered within ${formatDuration(START_DEADLINE_MS)} of starting; it is still running and may yet come up`,
      { hint: `check it with \`vilano daemon status\`, or read ${paths.daemonLog}` },
    );
  }
  throw startFailure(paths.daemonLog, logOffset);
}

/** The running daemon, started first if there is none; a busy one is waited for, never replaced. */
export async function ensureDaemon(): Promise<DaemonInfo> {
  const home = currentHome();
  const deadline = Date.now() + requestTimeoutMs;
  for (;;) {
    const s = await daemonState(home);
    if (s.state === "running") return s.info;
    if (s.state === "stopped") return startDaemonProcess(home);
    if (Date.now() >= deadline) {
      throw new VilanoError(
        "daemon_unavailable",
        `the daemon (pid ${s.info.pid}) is running but has not answered for ${formatDuration(requestTimeoutMs)}: it is busy or stopped; nothing was changed`,
        { hint: "try again later, or stop it with `vilano daemon stop`", details: { pid: s.info.pid } },
      );
    }
    await Bun.sleep(100);
  }
}

/**
 * Stops the daemon and waits until its process has exited: SIGTERM (and SIGCONT, so a stopped one
 * can shut down), then SIGKILL after the grace. Workers die with it.
 */
export async function stopDaemon(home: string, graceMs = 10_000): Promise<{ pid: number; forced: boolean } | null> {
  const s = await daemonState(home);
  if (s.state === "stopped") return null;
  const { pid } = s.info;
  // A pid that is not an integer > 1 (a damaged daemon.json) is refused with an error, not sent.
  const signal = (name: NodeJS.Signals) => {
    try {
      signalProcess(pid, name);
    } catch (error) {
      if ((error as { code?: string }).code !== "EPERM") throw error;
    }
  };
  signal("SIGTERM");
  signal("SIGCONT");
  const exited = async (withinMs: number) => {
    const until = Date.now() + withinMs;
    while (isProcessAlive(pid)) {
      if (Date.now() >= until) return false;
      await Bun.sleep(25);
    }
    return true;
  };
  let forced = false;
  if (!(await exited(graceMs))) {
    forced = true;
    signal("SIGKILL");
    if (!(await exited(5_000))) throw new VilanoError("internal", `the daemon (pid ${pid}) did not exit even after SIGKILL`);
  }
  // A killed daemon could not remove its daemon.json.
  readDaemonInfo(homePaths(home));
  return { pid, forced };
}
