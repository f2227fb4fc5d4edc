/**
 * The process groups of running `ctx.exec` subprocesses, noted in a file in the home. They lead
 * their own groups (so a timeout can kill a whole tree), which also means they outlive a worker
 * killed with the daemon. A daemon that starts after a crash ends the groups of its previous life
 * that still run — only those whose leader is still the process noted (same start time, same real
 * uid, still leading its group), or whose leader has ended while the rest of its group, all of that
 * uid and started after it, runs on; a pid used again by another process is never touched. Only
 * groups the pool checked in /proc are noted (worker/exec-groups.ts): a pid a worker merely named
 * never reaches this file. (A subprocess started in the last moments before a crash may not have
 * been noted yet.)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { signalProcessGroup, type Logger } from "../shared/index.ts";
import { mayEndExecGroup, type ExecGroup } from "../worker/index.ts";

export interface ExecLedger {
  started(group: ExecGroup): void;
  ended(pid: number): void;
  /** Ends what the previous daemon left running, then starts a fresh note. Call once the database is ours. */
  open(): number;
}

/** One entry of the note as written: `{ "<pid>": { start, uid } }`. */
type Noted = Record<string, { start?: unknown; uid?: unknown }>;

export function createExecLedger(path: string, logger: Logger): ExecLedger {
  const running = new Map<number, ExecGroup>();
  let opened = false;
  const write = () => {
    try {
      // Renamed into place: a daemon killed while writing leaves the note before, never half of one.
      const next = `${path}.${process.pid}.tmp`;
      const note = Object.fromEntries([...running].map(([pid, group]) => [pid, { start: group.start, uid: group.uid }]));
      writeFileSync(next, JSON.stringify(note), { mode: 0o600 });
      renameSync(next, path);
    } catch (error) {
      logger.warn(`could not note the running subprocesses in ${path}:`, error);
    }
  };
  return {
    started(group) {
      running.set(group.pid, group);
      if (opened) write();
    },
    ended(pid) {
      if (running.delete(pid) && opened) write();
    },
    open() {
      let ended = 0;
      if (existsSync(path)) {
        let previous: Noted = {};
        try {
          previous = JSON.parse(readFileSync(path, "utf8")) as Noted;
        } catch {
          // Unreadable: nothing can be ended safely.
        }
        for (const [key, noted] of Object.entries(previous ?? {})) {
          const group = { pid: Number(key), start: Number(noted?.start), uid: Number(noted?.uid) };
          // A damaged note ("0", "1", "x"), one without the leader's uid (written before it was
          // noted, when pids went unchecked), or a leader that is another process now: never signalled.
          if (running.has(group.pid) || !mayEndExecGroup(group)) continue;
          try {
            if (signalProcessGroup(group.pid, "SIGKILL")) ended++;
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
