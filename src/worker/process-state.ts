/**
 * Whether a process is stopped (SIGSTOP, or halted by a debugger), read from /proc on Linux. A
 * worker that stays silent while running or sleeping is busy in user code (and keeps its lease);
 * one that is stopped is not going to answer, so its lease may expire.
 */
import { readFileSync } from "node:fs";

export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The state is the first field after the command name, which is in parentheses and may hold spaces.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "T" || state === "t";
  } catch {
    return false;
  }
}
