/**
 * Whether a process lives, from the outside. `kill(pid, 0)` succeeds for a zombie (exited, not yet
 * reaped by its parent), so on Linux the state letter in /proc is read as well: a zombie is dead,
 * and a stopped process (SIGSTOP) is alive but will not answer.
 */
import { readFileSync } from "node:fs";
import { isSignallablePid, signalProcess } from "./signal-process.ts";

/** The one-letter state from /proc/<pid>/stat (R, S, D, T, t, Z, …), or null where it cannot be read. */
export function processStateLetter(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state follows the command name, which is in parentheses and may itself hold spaces.
    const end = stat.lastIndexOf(")");
    return stat.slice(end + 2, end + 3) || null;
  } catch {
    return null;
  }
}

/** False for a pid that names no single process (0, negative, not an integer): kill(2) would read it as a group. */
export function isProcessAlive(pid: number): boolean {
  if (!isSignallablePid(pid, 0)) return false;
  try {
    if (!signalProcess(pid, 0)) return false;
  } catch (error) {
    if ((error as { code?: string }).code !== "EPERM") return false;
  }
  const state = processStateLetter(pid);
  return state !== "Z" && state !== "X";
}

/** Stopped by a signal (SIGSTOP) or by a debugger. */
export function isProcessStopped(pid: number): boolean {
  const state = processStateLetter(pid);
  return state === "T" || state === "t";
}

/** When a process started (clock ticks since boot, /proc field 22): with the pid, it names one process for good. */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const start = Number(fields[19]);
    return Number.isFinite(start) ? start : null;
  } catch {
    return null;
  }
}
