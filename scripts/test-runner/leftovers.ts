/**
 * The processes a test file left behind, found by what they carry from it: every file runs with
 * its own temporary folder as TMPDIR, so whatever it started has that folder in its environment
 * (inherited, or as the VILANO_HOME the CLI helpers pass), or works inside it (workers and
 * subprocesses, whose environment is cleaned, run in a workspace there). Nothing else on the
 * machine — other people's tests included — can match, so only these are ever signalled, by a pid
 * checked again right before (src/shared/signal-process.ts refuses one that is not > 1).
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { processStateLetter, signalProcess } from "../../src/shared/index.ts";

export interface Leftover {
  pid: number;
  /** The /proc state letter: T is stopped (SIGSTOP), Z a zombie its parent has not reaped. */
  state: string;
  command: string;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ").slice(0, 160);
  } catch {
    return "?";
  }
}

/** Whether the process `pid` carries `folder`: in an environment value, or as its working directory. */
export function carries(pid: number, folder: string): boolean {
  const inside = (path: string) => path === folder || path.startsWith(`${folder}/`);
  try {
    if (inside(readlinkSync(`/proc/${pid}/cwd`))) return true;
  } catch {
    // gone, or not ours to read
  }
  try {
    return readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .some((entry) => entry.slice(entry.indexOf("=") + 1).split(":").some(inside));
  } catch {
    return false;
  }
}

/** Every live process (zombies aside: only their parent can clear them) that carries `folder`, this one excepted. */
export function processesCarrying(folder: string): Leftover[] {
  const found: Leftover[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) continue;
    const state = processStateLetter(pid);
    if (state === null || state === "Z" || state === "X") continue;
    if (carries(pid, folder)) found.push({ pid, state, command: commandOf(pid) });
  }
  return found;
}

/**
 * Waits up to `graceMs` for what carries `folder` to end by itself (a daemon told to stop may take
 * a moment), then kills what is left (stopped ones too) and says what that was.
 */
export async function endLeftovers(folder: string, graceMs: number): Promise<Leftover[]> {
  const until = Date.now() + graceMs;
  let left = processesCarrying(folder);
  while (left.length > 0 && Date.now() < until) {
    await Bun.sleep(100);
    left = processesCarrying(folder);
  }
  for (const leftover of left) {
    // Checked again by pid right before: a pid that ended meanwhile may already name someone else's process.
    if (!carries(leftover.pid, folder)) continue;
    try {
      signalProcess(leftover.pid, "SIGKILL"); // ends a stopped process too
    } catch (error) {
      console.error(`could not end leftover pid ${leftover.pid}: ${String(error)}`);
    }
  }
  return left;
}
