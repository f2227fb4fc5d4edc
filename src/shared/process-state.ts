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

/** Who a process is and where it hangs, from /proc: enough to tell a process group a worker started from one it names falsely. */
export interface ProcessLineage {
  /** Its parent's pid (0 for the kernel's own, 1 or a subreaper once orphaned). */
  ppid: number;
  /** The id of the process group it belongs to (its own pid when it leads the group). */
  pgrp: number;
  /** When it started (clock ticks since boot): with the pid, it names one process for good. */
  start: number;
  /** Its real user id (a set-user-id program it runs changes the effective one only). */
  uid: number;
}

/** The lineage of `pid`, or null where it cannot be read (gone, not Linux). */
export function processLineage(pid: number): ProcessLineage | null {
  if (!Number.isSafeInteger(pid) || pid < 1) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (in parentheses, which may hold anything): state, ppid, pgrp, … start is the 20th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const uidLine = readFileSync(`/proc/${pid}/status`, "utf8").match(/^Uid:\s+(\d+)/m);
    const [ppid, pgrp, start, uid] = [Number(fields[1]), Number(fields[2]), Number(fields[19]), Number(uidLine?.[1])];
    return [ppid, pgrp, start, uid].every(Number.isSafeInteger) ? { ppid, pgrp, start, uid } : null;
  } catch {
    return null;
  }
}
