/**
 * Which process groups the daemon may end for a worker: the `ctx.exec` subprocesses it started.
 *
 * Why: a worker says "I started a subprocess leading group N" (`exec_start`), and when the worker
 * dies the daemon kills group N — as root, for a `[worker] user`. User code runs in the worker and
 * can write any message to its IPC descriptor, so N is a claim, not a fact. It is believed only
 * when /proc agrees: N leads its own group, descends from that worker, is run by the worker's user
 * (its real uid), and is neither the daemon nor its group. Its start time is noted, and the group
 * is signalled later only while its leader is still that same process (a pid used again by
 * another process, or a leader gone, is left alone).
 *
 * @example
 * const group = vetExecGroup(claimed, { pid: worker.pid, uid: 999 });
 * if (typeof group === "string") log.warn(group); else groups.set(group.pid, group);
 * if (isSameExecGroup(group)) signalProcessGroup(group.pid, "SIGKILL");
 */
import { isSignallablePid, processLineage } from "../shared/index.ts";

/** A subprocess group a worker started, as /proc showed it when the worker said so. */
export interface ExecGroup {
  pid: number;
  /** Its leader's start time (clock ticks since boot). */
  start: number;
  /** Its leader's real uid. */
  uid: number;
}

/** The worker a claim came from: its pid (as seen here) and the uid its code runs as, when known. */
export interface ClaimingWorker {
  pid: number;
  uid: number | null;
}

/** How far up the parent chain a subprocess is looked for (exec's are the worker's children; a few levels spare). */
const MAX_DEPTH = 32;

/** The daemon's own process group (read once: a process does not change group). */
let daemonGroup: number | null | undefined;
const ownGroup = () => (daemonGroup === undefined ? (daemonGroup = processLineage(process.pid)?.pgrp ?? null) : daemonGroup);

/** The group `pid` leads if the claim holds, or why it is refused (a sentence naming the worker). */
export function vetExecGroup(pid: number, worker: ClaimingWorker): ExecGroup | string {
  const refused = (why: string) => `worker ${worker.pid} said it started a subprocess group ${pid}, which ${why}: it will not be signalled for it`;
  if (!isSignallablePid(pid, "SIGKILL")) return refused("is no process group (an integer > 1 is)");
  if (pid === process.pid || pid === ownGroup()) return refused("is the daemon's own");
  if (!isSignallablePid(worker.pid, "SIGKILL") || worker.pid === process.pid) return refused("cannot be traced to that worker");
  const leader = processLineage(pid);
  // Gone already (a short command): its exec_end follows, and there is nothing to end.
  if (leader === null) return refused("is not running (or cannot be read in /proc)");
  if (leader.pgrp !== pid) return refused(`does not lead its own process group (it is in group ${leader.pgrp})`);
  if (worker.uid !== null && leader.uid !== worker.uid) return refused(`runs as uid ${leader.uid}, not the worker's uid ${worker.uid}`);
  let parent = leader.ppid;
  for (let depth = 0; parent !== worker.pid; depth++) {
    if (parent <= 1 || depth >= MAX_DEPTH) return refused("is not a process that worker started");
    const above = processLineage(parent);
    if (above === null) return refused("is not a process that worker started");
    parent = above.ppid;
  }
  return { pid, start: leader.start, uid: leader.uid };
}

/** Whether the group's leader is still the process noted (same start time, same uid, still leading it). */
export function isSameExecGroup(group: ExecGroup): boolean {
  if (!isSignallablePid(group.pid, "SIGKILL") || group.pid === process.pid || group.pid === ownGroup()) return false;
  const leader = processLineage(group.pid);
  return leader !== null && leader.start === group.start && leader.uid === group.uid && leader.pgrp === group.pid;
}
