/**
 * Starting and finding the background daemon: the CLI spawns this same executable in
 * `daemon run` mode, detached from the terminal, with its output in the home's log, and waits
 * until its health check answers. Mutating commands call `ensureDaemon` first.
 */
import { openSync, rmSync } from "node:fs";
import { ensureHome, homePaths, readDaemonInfo, type DaemonInfo } from "../shared/home.ts";
import { loadConfig, VilanoError } from "../shared/index.ts";

/** argv that runs this program again: the compiled executable, or bun + the entry script. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

export function currentHome(): string {
  return loadConfig().home;
}

/** Whether our daemon (the pid in daemon.json) answers on its port. */
async function answers(info: DaemonInfo): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${info.port}/health`, { signal: AbortSignal.timeout(1_000) });
    return res.ok && ((await res.json()) as { pid?: number }).pid === info.pid;
  } catch {
    return false;
  }
}

/**
 * The running daemon, checked: a daemon.json whose pid is alive but does not answer as that
 * daemon (a reused pid after a crash or reboot) is stale and removed — and never signalled.
 */
export async function runningDaemon(home: string): Promise<DaemonInfo | null> {
  const paths = homePaths(home);
  const info = readDaemonInfo(paths);
  if (!info) return null;
  if (await answers(info)) return info;
  rmSync(paths.daemonJson, { force: true });
  return null;
}

export async function startDaemonProcess(home: string, port = loadConfig().port): Promise<DaemonInfo> {
  const paths = ensureHome(home);
  const running = await runningDaemon(home);
  if (running) return running;
  const log = openSync(paths.daemonLog, "a", 0o600);
  const child = Bun.spawn([...selfCommand(), "daemon", "run", "--port", String(port)], {
    env: { ...process.env, VILANO_HOME: home },
    stdin: "ignore",
    stdout: log,
    stderr: log,
  });
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const info = readDaemonInfo(paths);
    if (info && (await answers(info))) return info;
    if (child.exitCode !== null) break;
    await Bun.sleep(25);
  }
  throw new VilanoError("internal", `the daemon did not start; see ${paths.daemonLog}`);
}

/** The running daemon, started first if needed. */
export async function ensureDaemon(): Promise<DaemonInfo> {
  return startDaemonProcess(currentHome());
}
