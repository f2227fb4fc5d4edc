/**
 * The process groups of running `ctx.exec` subprocesses, noted in a file in the home. They lead
 * their own groups (so a timeout can kill a whole tree), which also means they outlive a worker
 * killed with the daemon. A daemon that starts after a crash ends the groups of its previous life
 * that still run — only those whose leader has the start time that was noted, so a pid used again
 * by another process is never touched. (A subprocess started in the last moments before a crash
 * may not have been noted yet.)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isSignallablePid, processStartTime, signalProcessGroup, type Logger } from "../shared/index.ts";

export interface ExecLedger {
  started(pid: number): void;
  ended(pid: number): void;
  /** Ends what the previous daemon left running, then starts a fresh note. Call once the database is ours. */
  open(): number;
}

export function createExecLedger(path: string, logger: Logger): ExecLedger {
  const running = new Map<number, number>();
  let opened = false;
  const write = () => {
    try {
      // Renamed into place: a daemon killed while writing leaves the note before, never half of one.
      const next = `${path}.${process.pid}.tmp`;
      writeFileSync(next, JSON.stringify(Object.fromEntries(running)), { mode: 0o600 });
      renameSync(next, path);
    } catch (error) {
      logger.warn(`could not note the running subprocesses in ${path}:`, error);
    }
  };
  return {
    started(pid) {
      const start = processStartTime(pid);
      if (start === null) return;
      running.set(pid, start);
      if (opened) write();
    },
    ended(pid) {
      if (running.delete(pid) && opened) write();
    },
    open() {
      let ended = 0;
      if (existsSync(path)) {
        let previous: Record<string, number> = {};
        try {
          previous = JSON.parse(readFileSync(path, "utf8")) as Record<string, number>;
        } catch {
          // Unreadable: nothing can be ended safely.
        }
        for (const [key, start] of Object.entries(previous)) {
          const pid = Number(key);
          // A damaged note ("0", "1", "x") names no group of ours: never signal it.
          if (!isSignallablePid(pid) || running.has(pid) || processStartTime(pid) !== start) continue;
          try {
            if (signalProcessGroup(pid, "SIGKILL")) ended++;
          } catch {
            // not ours to end (EPERM)
          }
        }
        if (ended > 0) logger.warn(`ended ${ended} subprocess group(s) left running by the previous daemon`);
      }
      opened = true;
      write();
      return ended;
    },
  };
}
