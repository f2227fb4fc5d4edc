/**
 * Which worker an activation goes to, and starting workers. A run goes back to the worker that ran
 * it last while that one is live and answering (warm modules, and whatever its code kept in
 * memory); a suspect's to its cohort's own worker; otherwise an external worker with room, else the
 * least loaded pooled worker of its code, or a new one while the code is under its size — plus a
 * spare per blocked worker, up to the project's bound (blocked-workers.ts).
 */
import { formatDuration, processStartTime } from "../shared/index.ts";
import { makeWorkspaceFolder, type CodeRef } from "../core/index.ts";
import { describeBlocked, isBlocked, roomFor } from "./blocked-workers.ts";
import type { Cohort } from "./crash-cohorts.ts";
import { settleIdle } from "./pool-lifecycle.ts";
import { sparesOf, type PoolState } from "./pool-state.ts";
import { isPooled, newWorker, type PoolWorker } from "./pool-worker.ts";
import { spawnWorker } from "./worker-process.ts";

/** Silence after which a busy worker is not given a run back. */
const STICKY_QUIET_MS = 1_000;

/**
 * A new worker for `code`: pooled, or one of its own (`own`, started in `cwd` — a fresh one in its
 * activation's directory) — or else in the code's shared folder.
 */
export function spawnIn(state: PoolState, code: CodeRef, own: boolean, cwd?: string): PoolWorker {
  const { options } = state;
  let group = state.groups.get(code.id);
  if (!group) state.groups.set(code.id, (group = new Set()));
  // Asked first: for a `[worker] user` it makes (or mends) that user's folders, the shared one included.
  const user = options.user?.(code);
  let dir = cwd;
  if (dir === undefined) makeWorkspaceFolder((dir = options.workspaces(code).shared), user !== undefined);
  const proc = spawnWorker({
    generation: state.generation,
    ...(options.liveExecutions !== undefined ? { liveExecutions: options.liveExecutions } : {}),
    maxValueBytes: options.kernel.maxValueBytes,
    env: options.environment(code),
    cwd: dir,
    ...(user ? { user } : {}),
    logger: options.logger.withTag("worker"),
    onMessage: (message) => state.events.message(worker, message),
    onUnsent: (message, error) => state.events.unsent(worker, message, error),
  });
  // The start time is read now, while it surely lives: a subprocess it names after dying must have started later.
  const worker = newWorker(code, own ? { type: "own" } : { type: "pooled" }, proc, { uid: user?.uid ?? process.getuid?.() ?? null, start: processStartTime(proc.pid) });
  state.stats.spawned++;
  group.add(worker);
  void proc.exited.then((exit) => state.events.exit(worker, exit));
  // A spare (or a replacement) that gets no work retires like any idle worker.
  if (!own) settleIdle(state, worker);
  return worker;
}

/** The run's previous worker, if it can take the activation now (live, answering, same code). */
export function sticky(state: PoolState, runId: string, code: CodeRef): PoolWorker | undefined {
  const last = state.lastWorker.get(runId);
  if (!last || last.life.state !== "live" || !last.proc.alive || !isPooled(last) || last.code?.id !== code.id) return undefined;
  // A worker that holds work but has said nothing for a while may be blocked: do not wait on it.
  if (last.held.size > 0 && Date.now() - last.proc.lastHeard > STICKY_QUIET_MS) return undefined;
  return last;
}

/**
 * The worker for the next activation of this code: the least loaded, or a new one while under size.
 * With fresh isolation a process of its own, started in `freshCwd` when given.
 */
export function assign(state: PoolState, code: CodeRef, freshCwd?: () => string): PoolWorker {
  const { options, stats } = state;
  if (options.isolation?.(code) === "fresh") return spawnIn(state, code, true, freshCwd?.());
  // Someone started a worker by hand to watch or debug their code: it gets the work while it has room.
  let outside: PoolWorker | undefined;
  for (const w of state.externals) if (w.life.state === "live" && w.proc.alive && w.role.type === "external" && w.role.takes !== "none" && (!outside || w.held.size < outside.held.size)) outside = w;
  if (outside?.role.type === "external") {
    if (outside.role.takes === "one") outside.role.takes = "none";
    return outside;
  }
  const live = [...(state.groups.get(code.id) ?? [])].filter((w) => w.life.state === "live" && w.proc.alive && isPooled(w));
  // The least loaded; a process still starting counts as busier than one with an activation or
  // two in hand (those usually end within a commit; starting takes tens of ms).
  const load = (w: PoolWorker) => w.held.size + w.requests.size + (w.proc.ready ? 0 : 2.5);
  // A blocked worker reads nothing: while some are, the code may have a spare worker for each (up
  // to its bound), and new work goes to the others. Only when every worker is blocked and no spare
  // may be started does work go to a blocked one (it waits there; `run explain` says for what).
  const now = Date.now();
  const spares = sparesOf(state, code);
  const room = roomFor(live, options.size, spares, now);
  let best: PoolWorker | undefined;
  for (const w of live) if (!isBlocked(w, now, spares.afterMs) && (!best || load(w) < load(best))) best = w;
  if ((!best || best.held.size > 0) && live.length < room) {
    if (live.length >= options.size) {
      stats.spares++;
      const blocked = live.filter((w) => isBlocked(w, now, spares.afterMs));
      state.log.warn(
        `${blocked.length} of the ${live.length} workers of ${code.id} have been silent past ${formatDuration(spares.afterMs)} holding work (blocked: ${describeBlocked(blocked)}); ` +
          `starting a spare worker (${live.length - options.size + 1} of at most ${spares.workers})`,
      );
    }
    return spawnIn(state, code, false);
  }
  if (best) return best;
  for (const w of live) if (!best || load(w) < load(best)) best = w;
  return best!;
}

/**
 * The worker of a cohort of suspects: its own while it is alive and not blocked, else a new one
 * that runs nothing but this cohort's activations. With fresh isolation, a new one each time.
 */
export function cohortWorker(state: PoolState, cohort: Cohort<PoolWorker>, code: CodeRef, freshCwd: string | undefined): PoolWorker {
  const own = cohort.worker;
  if (freshCwd === undefined && own && own.life.state === "live" && own.proc.alive && !isBlocked(own, Date.now(), sparesOf(state, code).afterMs)) return own;
  return (cohort.worker = spawnIn(state, code, true, freshCwd));
}
