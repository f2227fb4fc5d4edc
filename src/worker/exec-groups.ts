/**
 * Which process groups the daemon may end for a worker: the `ctx.exec` subprocesses it started.
 *
 * Why: a worker says "I started a subprocess leading group N" (`exec_start`), and when the worker
 * dies the daemon kills group N — as root, for a `[worker] user`. User code runs in the worker and
 * can write any message to its IPC descriptor, so N is a claim, not a fact. It is believed only
 * when /proc agrees: N leads its own group, is run by the worker's user (its real uid), is neither
 * the daemon nor its group, and descends from that worker — or, when the worker has died before
 * its claim was read (its subprocess then already belongs to init or to a subreaper above the
 * daemon), N is such an orphan that started after the worker did. Its start time is noted, and the
 * group is signalled later only while its leader is still that same process — or, with the leader
 * gone, while every process left in the group is the worker's user's and started after it (see
 * `mayEndExecGroup`). A pid used again by another process is left alone.
 *
 * @example
 * const group = vetExecGroup(claimed, { pid: worker.pid, uid: 999, start: workerStart });
 * if ("refused" in group) log[group.level](group.refused); else groups.set(group.pid, group);
 * if (mayEndExecGroup(group)) signalProcessGroup(group.pid, "SIGKILL");
 */
import { readdirSync } from "node:fs";
import { isProcessAlive, isSignallablePid, processLineage, type ProcessLineage } from "../shared/index.ts";

/** A subprocess group a worker started, as /proc showed it when the worker said so. */
export interface ExecGroup {
  pid: number;
  /** Its leader's start time (clock ticks since boot). */
  start: number;
  /** Its leader's real uid. */
  uid: number;
}

/** The worker a claim came from: its pid (as seen here), the uid its code runs as and its start time, when known. */
export interface ClaimingWorker {
  pid: number;
  uid: number | null;
  /** When the worker started (clock ticks since boot, read when it was spawned); null when not known. */
  start?: number | null;
}

/**
 * A claim not believed, and how loud to be about it: a leader already gone (a short command that
 * ended before its claim was read) is routine (`debug`); a live process that fails the checks is
 * worth a warning.
 */
export interface RefusedExecGroup {
  refused: string;
  level: "debug" | "warn";
}

/** How far up the parent chain a subprocess is looked for (exec's are the worker's children; a few levels spare). */
const MAX_DEPTH = 32;

/** The daemon's own process group (read once: a process does not change group). */
let daemonGroup: number | null | undefined;
const ownGroup = () => (daemonGroup === undefined ? (daemonGroup = processLineage(process.pid)?.pgrp ?? null) : daemonGroup);

/** The group `pid` leads if the claim holds, or why it is refused (a sentence naming the worker). */
export function vetExecGroup(pid: number, worker: ClaimingWorker): ExecGroup | RefusedExecGroup {
  const refused = (why: string, level: RefusedExecGroup["level"] = "warn"): RefusedExecGroup => ({
    refused: `worker ${worker.pid} said it started a subprocess group ${pid}, which ${why}: it will not be signalled for it`,
    level,
  });
  if (!isSignallablePid(pid, "SIGKILL")) return refused("is no process group (an integer > 1 is)");
  if (pid === process.pid || pid === ownGroup()) return refused("is the daemon's own");
  if (!isSignallablePid(worker.pid, "SIGKILL") || worker.pid === process.pid) return refused("cannot be traced to that worker");
  const leader = processLineage(pid);
  // Gone already (a short command): its exec_end follows, and there is nothing to end.
  if (leader === null) return refused("is not running (it has ended already)", "debug");
  if (leader.pgrp !== pid) return refused(`does not lead its own process group (it is in group ${leader.pgrp})`);
  if (worker.uid !== null && leader.uid !== worker.uid) return refused(`runs as uid ${leader.uid}, not the worker's uid ${worker.uid}`);
  const believed = { pid, start: leader.start, uid: leader.uid };
  if (isOrphanOfDeadWorker(leader, worker)) return believed;
  let parent = leader.ppid;
  for (let depth = 0; parent !== worker.pid; depth++) {
    if (parent <= 1 || depth >= MAX_DEPTH) return refused("is not a process that worker started");
    const above = processLineage(parent);
    if (above === null) return refused("is not a process that worker started");
    parent = above.ppid;
  }
  return believed;
}

/**
 * A subprocess of a worker that died before its claim was read: the kernel handed it to init or to
 * the nearest subreaper above the worker (so the daemon or one of its ancestors), and its lineage
 * no longer shows the worker. Believed when the worker is truly gone (its pid is no live process
 * with its start time), the leader started after the worker did and runs as the worker's user.
 * What such a claim can name is bounded by what that user's code could signal itself.
 */
function isOrphanOfDeadWorker(leader: ProcessLineage, worker: ClaimingWorker): boolean {
  if (worker.start === undefined || worker.start === null || worker.uid === null || leader.start < worker.start) return false;
  const now = processLineage(worker.pid);
  if (now !== null && now.start === worker.start && isProcessAlive(worker.pid)) return false;
  return leader.ppid === 1 || isDaemonOrAncestor(leader.ppid);
}

/** Whether `pid` is the daemon or one of its ancestors (where an orphan of a worker may be re-parented). */
function isDaemonOrAncestor(pid: number): boolean {
  let at: number | undefined = process.pid;
  for (let depth = 0; at !== undefined && at > 1 && depth < MAX_DEPTH; depth++) {
    if (at === pid) return true;
    at = processLineage(at)?.ppid;
  }
  return false;
}

/** Whether the group's leader is still the process noted (same start time, same uid, still leading it). */
export function isSameExecGroup(group: ExecGroup): boolean {
  if (!isSignallablePid(group.pid, "SIGKILL") || group.pid === process.pid || group.pid === ownGroup()) return false;
  const leader = processLineage(group.pid);
  return leader !== null && leader.start === group.start && leader.uid === group.uid && leader.pgrp === group.pid;
}

/**
 * Whether the daemon may SIGKILL the group now: its leader is still the process noted, or the
 * leader has ended but the group still has members — every one of them run by the group's user and
 * started no earlier than the leader (a group id cannot be handed out again while any process is in
 * that group, and a process can join a group only within its session, which the leader started).
 * A group with a member of another user (a set-user-id program it ran) is left alone: the daemon
 * may be root, and that process is not the user's to end.
 */
export function mayEndExecGroup(group: ExecGroup): boolean {
  if (isSameExecGroup(group)) return true;
  if (!isSignallablePid(group.pid, "SIGKILL") || group.pid === process.pid || group.pid === ownGroup()) return false;
  // A leader that is still there but not the one noted (another start time): the group is not ours.
  if (processLineage(group.pid) !== null) return false;
  const members = groupMembers(group.pid);
  return members.length > 0 && members.every((m) => m.uid === group.uid && m.start >= group.start);
}

/** The processes whose process group is `pgrp`, read in /proc. */
function groupMembers(pgrp: number): ProcessLineage[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const members: ProcessLineage[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const lineage = processLineage(Number(entry));
    // An ended member not yet reaped (a zombie) is nothing to end.
    if (lineage !== null && lineage.pgrp === pgrp && isProcessAlive(Number(entry))) members.push(lineage);
  }
  return members;
}
