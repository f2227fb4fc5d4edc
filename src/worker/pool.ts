/**
 * The managed worker pool: a runner whose activations run in long-lived worker processes (this
 * executable in worker mode), so user code never runs in the daemon.
 *
 * - Workers are grouped by the code they run (a project snapshot): each group has its own
 *   environment and up to `size` workers, started as load needs them and retired when idle.
 * - Hard stop: a timed step is announced by its worker; if the worker is silent past the deadline
 *   plus a short grace (its event loop is blocked), its process group is killed, the attempt is
 *   recorded as a forced timeout with the step's retry decision, and the other activations it
 *   held are relinquished (they replay elsewhere; nothing is recorded twice).
 * - Cancel: the activation is aborted; if its code has not stopped within a grace, the worker is
 *   killed the same way.
 * - Blocked workers: one holding work that has been silent past the project's `spare_after` (code
 *   that never yields) gets no new work, and the group may start a spare per blocked worker, up to
 *   `spare_workers`; idle ones beyond that retire (blocked-workers.ts). What it was sent just before
 *   and never read (a worker acks each activation as it reads it) goes to another worker (a spare);
 *   the blocker stays. When work of several runs
 *   had started there, it is evacuated: stopped, nobody charged, the runs halved into cohorts on
 *   workers of their own until the blocker is alone (evacuation.ts); alone, it is left to run.
 * - Crash: a worker that dies on its own costs an attempt only to the run it can be blamed on: the
 *   one whose code called `process.exit()`, or the only run it held. When it held several and
 *   cannot say (a signal, out of memory), nobody is charged and they go on in two halves, each on
 *   a worker of its own, split again at each such crash until the guilty run crashes alone
 *   (crash-blame.ts, crash-cohorts.ts); the kernel fails a run after three charged crashes in a row.
 * - Leases: a worker that holds activations, stays silent past the lease time and is stopped
 *   (SIGSTOP) loses them; what it sends when it wakes reaches the kernel with its old fence and is
 *   refused there. A silent worker that is running is busy in user code and keeps its lease.
 * - External workers (`vilano worker start`) connect over the API and are preferred while they
 *   have room. They cannot be killed: a hard stop or a cancel that needs force closes their
 *   connection instead, and leaving (even by crashing) never costs their runs an attempt.
 * - Workspaces: each activation is told its own directory (the worker makes it when first needed;
 *   a worker of a `fresh` project starts in it), and the pool removes it when the activation ends,
 *   however it ends — finished, relinquished, or its worker dead. Pooled workers start in the
 *   code's shared folder. External workers work in their own directory.
 */
import { crashPoint, errorCodeOf, formatDuration, isErrorCode, isProcessStopped, processStartTime, signalProcessGroup, toFailureBody, VilanoError, type LiveOutcome, type Logger, type OpCommand } from "../shared/index.ts";
import type { Activation, Kernel } from "../kernel/index.ts";
import { makeWorkspaceFolder, prepareWorkspace, removeWorkspace, type CaptureSink, type Catalog, type CodeRef, type CodeWorkspace, type Runner } from "../core/index.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { externalWorker, type WorkerLink } from "./external-link.ts";
import { forcedTimeout, judgeBlockedWorker } from "./hard-stop.ts";
import { judgeCrash } from "./crash-blame.ts";
import { createCohorts, type Cohort } from "./crash-cohorts.ts";
import { describeBlocked, isBlocked, placeOf, roomFor, silentFor, takeBackFrom, type SpareSettings } from "./blocked-workers.ts";
import { evacuatedWhy, evacuationNotice, evacuationSuspects } from "./evacuation.ts";
import { DEFAULT_SPARE_AFTER_MS, DEFAULT_SPARE_WORKERS } from "../project/index.ts";
import { newWorker, remember, runOf, setBounded, type DeathKind, type Held, type PoolWorker, type RunningStep } from "./pool-worker.ts";
import { spawnWorker, type WorkerExit } from "./worker-process.ts";
import { mayEndExecGroup, vetExecGroup, type ExecGroup } from "./exec-groups.ts";
import { unsentToWorker } from "./unsent-to-worker.ts";
import type { LiveExecutionStats } from "../engine/index.ts";

export type Isolation = "pooled" | "fresh";

export interface WorkerPoolOptions {
  kernel: Kernel;
  catalog: Catalog;
  logger: Logger;
  /** Workers per body of code (the default: the number of CPUs, at least 2). */
  size: number;
  /** Suspended workflow executions each worker keeps for a resume without replay (its default when absent). */
  liveExecutions?: number;
  /** Where this code's workers start and its activations work (see core/workspaces.ts). */
  workspaces(code: CodeRef): CodeWorkspace;
  /** The environment a worker running this code starts with. */
  environment(code: CodeRef): Record<string, string>;
  /** `fresh`: every activation in a process of its own (no module state shared between activations). */
  isolation?(code: CodeRef): Isolation;
  /** Spare workers while every worker of this code is blocked, and the silence that counts as blocked (default 2 after 3 s). */
  spares?(code: CodeRef): SpareSettings;
  /** The OS user this code's workers run as (`[worker] user`); undefined: the daemon's own. */
  user?(code: CodeRef): { uid: number; gid: number } | undefined;
  /** A generation id of this daemon; a worker that answers with another one is never heard. */
  generation?: string;
  /** Silence past a timed step's deadline before its worker is killed (default 100 ms). */
  hardStopGraceMs?: number;
  /** How long cancelled code may take to stop before its worker is killed (default 1 s). */
  cancelGraceMs?: number;
  /** Silence after which a stopped worker loses its leases (default 5 s). */
  leaseTtlMs?: number;
  /** An idle worker exits after this long (default 5 min). */
  idleRetireMs?: number;
  /** Longest a worker may take to answer a request such as a service key (default 10 s). */
  requestTimeoutMs?: number;
  /** Where the output of `ctx.exec` subprocesses goes (capture files, live watchers). */
  captures?: CaptureSink;
  /**
   * A durable note of the subprocess groups running now, so a daemon restarted after a crash can
   * end those of its previous life (their workers died with it; they did not).
   */
  execLedger?: { started(group: ExecGroup): void; ended(pid: number): void };
}

export interface PoolStats {
  /** Worker processes started. */
  spawned: number;
  /** Workers killed because a timed step blocked past its deadline. */
  hardStops: number;
  /** Workers that died on their own while holding activations. */
  crashes: number;
  /** Workers whose leases expired (stopped, not answering). */
  expired: number;
  /** Workers killed because cancelled code did not stop. */
  cancelKills: number;
  /** Spare workers started because every worker of their code was blocked. */
  spares: number;
  /** Blocked workers stopped because work of several runs waited in them (evacuation.ts). */
  evacuations: number;
}

export interface WorkerPool extends Runner {
  /** Starts a worker for `code` if it has none, so its first activation does not wait for a process. */
  prewarm(code: CodeRef): void;
  /** A worker that connected over the API (`vilano worker start`); returns where its messages go. */
  attachExternal(link: WorkerLink): { receive(text: string): void; closed(): void };
  /** Pids of the external workers connected now. */
  externalPids(): number[];
  /** A service's key for a key input, computed by the service's own code in a worker. */
  computeKey(code: CodeRef, service: string, keyInput: string | null): Promise<string>;
  readonly stats: PoolStats;
  /** Pids of the live worker processes. */
  pids(): number[];
}

const MAX_TIMER_MS = 2_147_483_647;
/** How long an expired worker that woke up may go on talking (to the kernel, which refuses it) before it is retired. */
const EXPIRED_DRAIN_MS = 1_000;
const EXPIRED_MAX_MS = 60_000;
/** How many runs' previous workers are remembered. */
const MAX_STICKY = 100_000;
/** Keys computed for key inputs, remembered (per code snapshot and service). */
const MAX_KEYS = 10_000;
/** Silence after which a busy worker is not given a run back. */
const STICKY_QUIET_MS = 1_000;

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const { kernel, catalog } = options;
  const log = options.logger.withTag("pool");
  const runLog = options.logger.withTag("run");
  const generation = options.generation ?? crypto.randomUUID();
  const grace = options.hardStopGraceMs ?? 100;
  const cancelGrace = options.cancelGraceMs ?? 1_000;
  const leaseTtl = options.leaseTtlMs ?? 5_000;
  const idleRetire = options.idleRetireMs ?? 300_000;
  const requestTimeout = options.requestTimeoutMs ?? 10_000;
  const groups = new Map<string, Set<PoolWorker>>();
  const externals = new Set<PoolWorker>();
  const byRun = new Map<string, { worker: PoolWorker; held: Held }>();
  /**
   * Runs suspected of blocking or crashing a worker, and runs charged a crash: their activations
   * go to their cohort's own worker until one of them ends normally (crash-cohorts.ts).
   */
  const cohorts = createCohorts<PoolWorker>(MAX_STICKY);
  /**
   * The worker that last ran each run (bounded). A run's next activation goes back there while it
   * is live and answering: its modules are loaded and warm, and whatever the code kept in memory
   * is still there (a cache, never a source of truth: a replay elsewhere gives the same result).
   */
  const lastWorker = new Map<string, PoolWorker>();
  /** The worker each suspended run was last suspended in (where its execution may be parked). */
  const parkedIn = new Map<string, PoolWorker>();
  const keys = new Map<string, string>();
  const stats: PoolStats = { spawned: 0, hardStops: 0, crashes: 0, expired: 0, cancelKills: 0, spares: 0, evacuations: 0 };
  const sparesOf = (code: CodeRef | null): SpareSettings =>
    (code && options.spares?.(code)) || { workers: DEFAULT_SPARE_WORKERS, afterMs: DEFAULT_SPARE_AFTER_MS };
  /** What workers that have exited said of their parked executions. */
  const retiredLive: LiveExecutionStats = { parked: 0, resumed: 0, evicted: 0, stale: 0 };
  const addLive = (into: LiveExecutionStats, from: LiveExecutionStats) => {
    for (const k of ["parked", "resumed", "evicted", "stale"] as const) into[k] += from[k];
    return into;
  };
  let nextActivation = 1;
  let nextRequest = 1;
  let closed = false;

  const leaseCheck = setInterval(checkLeases, Math.max(50, Math.min(250, leaseTtl / 4)));
  leaseCheck.unref();

  // ---------------------------------------------------------------------------------------------
  // Workers

  /** A new worker for `code`, started in `cwd` (a fresh one in its activation's directory) or else the code's shared folder. */
  function spawnIn(code: CodeRef, fresh: boolean, cwd?: string): PoolWorker {
    let group = groups.get(code.id);
    if (!group) groups.set(code.id, (group = new Set()));
    // Asked first: for a `[worker] user` it makes (or mends) that user's folders, the shared one included.
    const user = options.user?.(code);
    let dir = cwd;
    if (dir === undefined) makeWorkspaceFolder((dir = options.workspaces(code).shared), user !== undefined);
    const worker = newWorker(code, { fresh, external: false });
    worker.uid = user?.uid ?? process.getuid?.() ?? null;
    worker.proc = spawnWorker({
      generation,
      ...(options.liveExecutions !== undefined ? { liveExecutions: options.liveExecutions } : {}),
      maxValueBytes: options.kernel.maxValueBytes,
      env: options.environment(code),
      cwd: dir,
      ...withUser(user),
      logger: options.logger.withTag("worker"),
      onMessage: (message) => onMessage(worker, message),
      onUnsent: (message, error) => onUnsent(worker, message, error),
    });
    // Read now, while it surely lives: a subprocess it names after dying must have started later.
    worker.start = processStartTime(worker.proc.pid);
    stats.spawned++;
    group.add(worker);
    void worker.proc.exited.then((exit) => onExit(worker, exit));
    // A spare (or a replacement) that gets no work retires like any idle worker.
    if (!fresh) settleIdle(worker);
    return worker;
  }

  /** The run's previous worker, if it can take the activation now (live, answering, same code). */
  function sticky(runId: string, code: CodeRef): PoolWorker | undefined {
    const last = lastWorker.get(runId);
    if (!last || last.state !== "live" || !last.proc.alive || last.fresh || last.external || last.code?.id !== code.id) return undefined;
    // A worker that holds work but has said nothing for a while may be blocked: do not wait on it.
    if (last.held.size > 0 && Date.now() - last.proc.lastHeard > STICKY_QUIET_MS) return undefined;
    return last;
  }

  /**
   * The worker for the next activation of this code: the least loaded, or a new one while under size.
   * With fresh isolation a process of its own, started in `freshCwd` when given.
   */
  function assign(code: CodeRef, freshCwd?: () => string): PoolWorker {
    if (options.isolation?.(code) === "fresh") return spawnIn(code, true, freshCwd?.());
    // Someone started a worker by hand to watch or debug their code: it gets the work while it has room.
    let outside: PoolWorker | undefined;
    for (const w of externals) if (w.state === "live" && w.proc.alive && !w.spent && (!outside || w.held.size < outside.held.size)) outside = w;
    if (outside) {
      if (outside.once) outside.spent = true;
      return outside;
    }
    const live = [...(groups.get(code.id) ?? [])].filter((w) => w.state === "live" && w.proc.alive && !w.fresh);
    // The least loaded; a process still starting counts as busier than one with an activation or
    // two in hand (those usually end within a commit; starting takes tens of ms).
    const load = (w: PoolWorker) => w.held.size + w.requests.size + (w.proc.ready ? 0 : 2.5);
    // A blocked worker reads nothing: while some are, the code may have a spare worker for each (up
    // to its bound), and new work goes to the others. Only when every worker is blocked and no spare
    // may be started does work go to a blocked one (it waits there; `run explain` says for what).
    const now = Date.now();
    const spares = sparesOf(code);
    const room = roomFor(live, options.size, spares, now);
    let best: PoolWorker | undefined;
    for (const w of live) if (!isBlocked(w, now, spares.afterMs) && (!best || load(w) < load(best))) best = w;
    if ((!best || best.held.size > 0) && live.length < room) {
      if (live.length >= options.size) {
        stats.spares++;
        const blocked = live.filter((w) => isBlocked(w, now, spares.afterMs));
        log.warn(
          `${blocked.length} of the ${live.length} workers of ${code.id} have been silent past ${formatDuration(spares.afterMs)} holding work (blocked: ${describeBlocked(blocked)}); ` +
            `starting a spare worker (${live.length - options.size + 1} of at most ${spares.workers})`,
        );
      }
      return spawnIn(code, false);
    }
    if (best) return best;
    for (const w of live) if (!best || load(w) < load(best)) best = w;
    return best!;
  }

  /**
   * The worker of a cohort of suspects: its own while it is alive and not blocked, else a new one
   * that runs nothing but this cohort's activations. With fresh isolation, a new one each time.
   */
  function cohortWorker(cohort: Cohort<PoolWorker>, code: CodeRef, freshCwd: string | undefined): PoolWorker {
    const own = cohort.worker;
    if (freshCwd === undefined && own && own.state === "live" && own.proc.alive && !isBlocked(own, Date.now(), sparesOf(code).afterMs)) return own;
    return (cohort.worker = spawnIn(code, true, freshCwd));
  }

  function killExecGroups(worker: PoolWorker): void {
    for (const group of worker.execGroups.values()) {
      try {
        // Checked when the worker named it; signalled only while its leader is still that process
        // (or, the leader gone, while what is left of the group is that user's: exec-groups.ts).
        if (mayEndExecGroup(group)) signalProcessGroup(group.pid, "SIGKILL");
      } catch (error) {
        log.warn(`could not end the subprocess group ${group.pid} of worker ${worker.proc.pid}:`, error);
      }
      options.execLedger?.ended(group.pid);
    }
    worker.execGroups.clear();
  }

  function kill(worker: PoolWorker, kind: DeathKind, victims = new Map<number, RunningStep>()): void {
    if (worker.state === "dead") return;
    worker.death ??= { kind, victims };
    worker.state = "dying";
    worker.proc.kill();
  }

  /** Workspaces being removed: closing waits for them, so what is left afterwards is only what was kept. */
  const removals = new Set<Promise<void>>();
  function removing(dir: string, runId: string): void {
    const removal = removeWorkspace(dir)
      .catch((error) => log.warn(`run ${runId}: could not remove its workspace ${dir}:`, error))
      .finally(() => removals.delete(removal));
    removals.add(removal);
  }

  function settleIdle(worker: PoolWorker): void {
    if (worker.held.size > 0 || worker.requests.size > 0 || worker.state !== "live") return;
    // A one-activation external worker leaves once its activation is done; others stay connected.
    if (worker.external) return void (worker.spent && kill(worker, "idle"));
    if (worker.fresh) return kill(worker, "idle");
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    // New work clears the timer; the check at firing is for a worker that changed state meanwhile.
    worker.idleTimer = setTimeout(() => {
      if (worker.held.size === 0 && worker.requests.size === 0 && worker.state === "live") kill(worker, "idle");
    }, idleRetire);
    worker.idleTimer.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // Activations

  function end(worker: PoolWorker, held: Held): void {
    if (held.ended) return;
    held.ended = true;
    for (const step of held.steps.values()) if (step.timer) clearTimeout(step.timer);
    if (held.abortTimer) clearTimeout(held.abortTimer);
    worker.held.delete(held.a);
    if (byRun.get(held.runId)?.held === held) byRun.delete(held.runId);
    // Whatever ended it (a result, a lost lease, its worker's death): its directory goes now. Most
    // activations never made one; removing a missing path costs some 5 µs, off the event loop.
    if (held.workspace !== null) removing(held.workspace, held.runId);
    held.resolve();
    settleIdle(worker);
  }

  function run(activation: Activation, signal: AbortSignal): Promise<void> {
    if (closed) return Promise.resolve();
    const code = catalog.codeRef(activation.run);
    if (!code) {
      log.error(`run ${activation.run.id}: no code location for it; it stays running until the next start`);
      return Promise.resolve();
    }
    const workspaces = options.workspaces(code);
    const workspace = workspaces.activation(activation.run.id, activation.fence);
    // With fresh isolation the process starts in the activation's directory, so relative paths in its
    // code land there too. (A run the pool puts on a worker of its own after a hard stop is still
    // pooled code: that worker starts in the shared folder, like every pooled one.)
    // For a `[worker] user`, its folders are mended first (a link its code put in place of `runs/` is removed, never followed).
    const inWorkspace = () => {
      const user = options.user?.(code);
      prepareWorkspace(workspace, workspaces.managed ? code.dir : null, user !== undefined);
      return workspace;
    };
    let worker: PoolWorker;
    try {
      const isolated = options.isolation?.(code) === "fresh";
      const cohort = cohorts.of(activation.run.id);
      worker = cohort ? cohortWorker(cohort, code, isolated ? inWorkspace() : undefined) : (sticky(activation.run.id, code) ?? assign(code, inWorkspace));
    } catch (error) {
      // Say so, and give the run back after a pause (the cause, too many open files say, may pass).
      log.error(`run ${activation.run.id}: could not start a worker; it goes again in 1s:`, error);
      if (workspaces.removeAfter) removing(workspace, activation.run.id);
      return Bun.sleep(1_000).then(() =>
        kernel.relinquish(activation.run.id, activation.fence, "no worker could be started").then(
          () => undefined,
          quietly(`run ${activation.run.id}: could not give it back`),
        ),
      );
    }
    const { run: row, fence, ops, turn } = activation;
    const a = nextActivation++;
    setBounded(lastWorker, row.id, worker, MAX_STICKY);
    return new Promise<void>((resolve) => {
      // An external worker works in its own directory, and a folder the embedder chose is every
      // worker's own already: nothing to tell, make or remove.
      const own = !worker.external && workspaces.managed;
      const held: Held = { a, runId: row.id, fence, steps: new Map(), abortTimer: null, ended: false, resolve, workspace: own && workspaces.removeAfter ? workspace : null, sentAt: Date.now(), heard: false, takenBack: false, finished: false };
      worker.held.set(a, held);
      byRun.set(row.id, { worker, held });
      if (worker.idleTimer) clearTimeout(worker.idleTimer);
      worker.proc.send({
        t: "activate",
        a,
        code,
        run: { id: row.id, project: row.project, kind: row.kind, name: row.name, input: row.input },
        fence,
        ops: ops.map((op) => ({
          opKey: op.opKey,
          seq: op.seq,
          kind: op.kind,
          name: op.name,
          status: op.status,
          attempt: op.attempt,
          result: op.result,
          error: op.error,
          resolvedSeq: op.resolvedSeq,
        })),
        ...(turn ? { turn } : {}),
        ...(own ? { workspace } : {}),
      });
      const onAbort = () => abort(worker, held, signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  function abort(worker: PoolWorker, held: Held, reason: unknown): void {
    if (held.ended || worker.state === "dead") return;
    const code = errorCodeOf(reason) ?? "cancelled";
    worker.proc.send({ t: "abort", a: held.a, code, message: (reason as Error)?.message ?? "aborted" });
    // Closing kills every worker anyway; a cancel gives the code a grace to stop by itself.
    if (code === "runtime_closed") return;
    held.abortTimer = setTimeout(() => {
      if (held.ended || worker.state !== "live") return;
      stats.cancelKills++;
      log.warn(`run ${held.runId} was cancelled but its code did not stop within ${formatDuration(cancelGrace)}; killing worker ${worker.proc.pid}`);
      kill(worker, "cancel");
    }, cancelGrace);
  }

  // ---------------------------------------------------------------------------------------------
  // Hard stop of timed steps

  function armStep(worker: PoolWorker, step: RunningStep, at: number): void {
    step.timer = setTimeout(() => checkStep(worker, step), Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
  }

  function checkStep(worker: PoolWorker, step: RunningStep): void {
    step.timer = null;
    if (worker.state !== "live" || step.deadline === null) return;
    const now = Date.now();
    if (now < step.deadline + grace) return armStep(worker, step, step.deadline + grace);
    const quiet = now - worker.proc.lastHeard;
    // Still talking after the deadline: its event loop runs, so the step's own timeout ends it.
    if (quiet < grace) return armStep(worker, step, worker.proc.lastHeard + grace + 1);
    const { victims, suspects } = judgeBlockedWorker(worker.held.values(), now);
    stats.hardStops++;
    const names = [...victims].map(([a, s]) => `${worker.held.get(a)?.runId} ${s.opKey}`).join(", ");
    if (suspects.length === 0) {
      log.warn(`worker ${worker.proc.pid} was silent ${quiet} ms past the deadline of ${names}; killing it (hard stop)`);
      return kill(worker, "hard_stop", victims);
    }
    // Other steps were running too, so the blocker is not known: nobody is charged, and the runs
    // that had a step running go on in two halves, each on a worker of its own, where a blocker shows itself.
    cohorts.isolate([...worker.held.values()].filter((held) => held.steps.size > 0).map((held) => held.runId));
    log.warn(
      `worker ${worker.proc.pid} was silent ${quiet} ms past the deadline of ${names}, with steps of ${suspects.join(", ")} running too; ` +
        "killing it; nobody is charged, and those runs go on in two halves, each on a worker of its own",
    );
    kill(worker, "hard_stop_unclear");
  }


  // ---------------------------------------------------------------------------------------------
  // Leases

  function checkLeases(): void {
    const now = Date.now();
    retireSpares(now);
    takeBackFromBlocked(now);
    evacuateBlocked(now);
    for (const group of [...groups.values(), externals]) {
      for (const worker of group) {
        if (worker.state !== "live" || worker.held.size === 0 || now - worker.proc.lastHeard <= leaseTtl) continue;
        if (isProcessStopped(worker.proc.pid)) expire(worker);
      }
    }
  }

  /** Idle workers beyond what a body of code may have now (its size, plus a spare per blocked worker) retire. */
  function retireSpares(now: number): void {
    for (const group of groups.values()) {
      const live = [...group].filter((w) => w.state === "live" && !w.fresh);
      if (live.length <= options.size) continue;
      let surplus = live.length - roomFor(live, options.size, sparesOf(live[0]!.code), now);
      for (const w of live) {
        if (surplus <= 0) break;
        if (w.held.size > 0 || w.requests.size > 0) continue;
        kill(w, "idle");
        surplus--;
      }
    }
  }

  /**
   * Work sent to a worker just before it was seen blocked would wait behind the blocker for as long
   * as it runs: the activations the worker never started go back to the kernel (a new fence) and on
   * to another worker — a spare, when every worker is blocked. Only where they have somewhere else
   * to go: with every worker blocked and no spare allowed, they stay and wait.
   */
  function takeBackFromBlocked(now: number): void {
    for (const group of groups.values()) {
      // Workers of their own (a cohort's) included: what they never started goes to a new one of the cohort's.
      const all = [...group].filter((w) => w.state === "live" && w.proc.alive);
      if (all.length === 0) continue;
      const live = all.filter((w) => !w.fresh);
      const spares = sparesOf(all[0]!.code);
      const blocked = live.filter((w) => isBlocked(w, now, spares.afterMs));
      const elsewhere = blocked.length < live.length || live.length < roomFor(live, options.size, spares, now);
      for (const worker of all) {
        if (!isBlocked(worker, now, spares.afterMs) || (!worker.fresh && !elsewhere)) continue;
        const taken = takeBackFrom(worker);
        if (taken.length === 0) continue;
        const pid = worker.proc.pid;
        log.warn(
          `worker ${pid} has been silent past ${formatDuration(spares.afterMs)} (blocked: ${describeBlocked([worker])}); ` +
            `runs sent to it that it has not started go to another worker: ${taken.map((h) => h.runId).join(", ")}`,
        );
        for (const held of taken) {
          held.takenBack = true;
          // Should it wake up, it aborts them before their code gets far, and what it still sends is refused by the fence.
          remember(worker, held.a, held.runId);
          worker.proc.send({ t: "abort", a: held.a, code: "stale_lease", message: `taken back from worker ${pid}, which was blocked` });
          lastWorker.delete(held.runId);
          kernel
            .relinquish(held.runId, held.fence, `its worker ${pid} was blocked by another run's code before it started; it goes to another worker`)
            .catch(quietly(`run ${held.runId}: could not take it back from blocked worker ${pid}`))
            .finally(() => end(worker, held));
        }
      }
    }
  }

  /**
   * A blocked worker in which work of several runs had started is stopped: what started there waits
   * behind the blocker for as long as it runs. Nobody is charged; the runs go again, suspects halved
   * into cohorts on workers of their own, until the blocker is alone (evacuation.ts). A stopped
   * (SIGSTOP) worker is left to its lease.
   */
  function evacuateBlocked(now: number): void {
    for (const group of groups.values()) {
      for (const worker of group) {
        if (worker.state !== "live" || !worker.proc.alive || !isBlocked(worker, now, sparesOf(worker.code).afterMs)) continue;
        const suspects = evacuationSuspects(worker);
        if (!suspects || isProcessStopped(worker.proc.pid)) continue;
        stats.evacuations++;
        log.warn(evacuationNotice(worker.proc.pid, silentFor(worker, now), suspects));
        // Before any of them is given back (the kernel hands it out again at once).
        cohorts.isolate(suspects);
        kill(worker, "evacuated");
      }
    }
  }

  function expire(worker: PoolWorker): void {
    stats.expired++;
    worker.state = "expired";
    const runs = [...worker.held.values()];
    log.warn(`worker ${worker.proc.pid} is stopped and silent past its lease (${formatDuration(leaseTtl)}); its runs go to other workers: ${runs.map((h) => h.runId).join(", ")}`);
    for (const held of runs) {
      remember(worker, held.a, held.runId);
      kernel
        .relinquish(held.runId, held.fence, `lease expired: worker ${worker.proc.pid} stopped answering`)
        .catch((error) => log.error(`run ${held.runId}: could not take it back from worker ${worker.proc.pid}:`, error))
        .finally(() => end(worker, held));
    }
    // Its subprocesses were part of the work that now goes elsewhere.
    killExecGroups(worker);
    const retire = setTimeout(() => kill(worker, "expired"), EXPIRED_MAX_MS);
    retire.unref();
  }

  // ---------------------------------------------------------------------------------------------
  // Messages

  const reply = (worker: PoolWorker, message: ToWorker) => worker.proc.send(message);
  const refusal = (error: unknown) => ({ code: errorCodeOf(error) ?? "internal", message: (error as Error)?.message ?? String(error) });
  const quietly = (what: string) => (error: unknown) => {
    const code = errorCodeOf(error);
    if (!closed && code !== "stale_lease" && code !== "runtime_closed") log.warn(`${what}:`, error);
  };

  function onMessage(worker: PoolWorker, m: FromWorker): void {
    // A word about an activation (its `started` ack first) means the worker has read it (see takeBackFrom).
    if ("a" in m) {
      const held = worker.held.get(m.a);
      if (held) held.heard = true;
    }
    if (worker.state === "expired") {
      // It woke up: let what it says reach the kernel (which refuses it), then retire it.
      setTimeout(() => kill(worker, "expired"), EXPIRED_DRAIN_MS).unref();
    }
    switch (m.t) {
      case "ready":
      case "hb":
      case "started":
        return;
      case "report": {
        const runId = runOf(worker, m.a);
        if (runId === undefined) {
          reply(worker, { t: "reply", a: m.a, c: m.c, ok: false, code: "stale_lease", message: `activation ${m.a} is not held by this worker` });
          return;
        }
        clearStep(worker, m.a, m.cmd);
        kernel.reportOp(runId, m.fence, m.cmd).then(
          (res) => (crashPoint("after_worker_report"), reply(worker, { t: "reply", a: m.a, c: m.c, ok: true, res })),
          (error) => reply(worker, { t: "reply", a: m.a, c: m.c, ok: false, ...refusal(error) }),
        );
        return;
      }
      case "post": {
        const runId = runOf(worker, m.a);
        if (runId === undefined) return;
        kernel.reportOp(runId, m.fence, m.cmd).catch(quietly(`run ${runId}: could not record ${m.cmd.opKey}`));
        return;
      }
      case "finish": {
        if (m.live) worker.live = m.live;
        const held = worker.held.get(m.a);
        if (!held) {
          const runId = worker.gone.get(m.a);
          if (runId === undefined) return;
          kernel.finishActivation(runId, m.fence, m.result).catch(quietly(`run ${runId}: result from an expired lease`));
          return;
        }
        // Done on the worker's side: while its commit is pending, the worker owes no word of it (blocked-workers.ts).
        held.finished = true;
        if (m.result.type === "aborted") return end(worker, held);
        cohorts.release(held.runId);
        // Its code may go on after it looked blocked (see ActivationHost.settleLate): keep hearing it.
        if (m.result.type === "suspended") {
          remember(worker, m.a, held.runId);
          setBounded(parkedIn, held.runId, worker, MAX_STICKY);
        }
        kernel
          .finishActivation(held.runId, m.fence, m.result)
          .catch(quietly(`run ${held.runId}: could not record its result`))
          .finally(() => end(worker, held));
        return;
      }
      case "sleep_late":
        kernel.noteSleepLateness(m.ms);
        return;
      case "late": {
        const runId = worker.gone.get(m.a);
        if (runId === undefined) return;
        worker.gone.delete(m.a);
        log.warn(`run ${runId}: its code went on after it looked blocked on a durable wait — it awaited work that is not a ctx operation; put such work inside ctx.step`);
        kernel.finishActivation(runId, m.fence, m.result).catch(quietly(`run ${runId}: late result dropped`));
        return;
      }
      case "log": {
        const runId = runOf(worker, m.a);
        if (runId === undefined) return;
        if (m.fields === undefined) runLog.info(`${runId} ${m.message}`);
        else runLog.info(`${runId} ${m.message}`, m.fields);
        return;
      }
      case "step": {
        const held = worker.held.get(m.a);
        if (!held) return;
        const step: RunningStep = { ...m, deadline: m.timeoutMs === null ? null : Date.now() + m.timeoutMs, timer: null };
        held.steps.set(m.opKey, step);
        if (step.deadline === null) return;
        armStep(worker, step, step.deadline + grace);
        // A timed step may need a hard stop: have a spare worker ready, so the retry (and the
        // activations the killed worker held) go on at once instead of waiting for a new process.
        if (worker.code && !worker.fresh) {
          const live = [...(groups.get(worker.code.id) ?? [])].filter((w) => w.state === "live" && !w.fresh);
          if (live.length < Math.min(2, options.size)) spawnIn(worker.code, false);
        }
        return;
      }
      case "step_end": {
        const held = worker.held.get(m.a);
        const step = held?.steps.get(m.opKey);
        if (!held || !step) return;
        if (step.timer) clearTimeout(step.timer);
        held.steps.delete(m.opKey);
        return;
      }
      case "exec_start": {
        // A claim from where user code runs (it can write this message itself): believed only when /proc agrees.
        const group = vetExecGroup(m.pid, { pid: worker.proc.pid, uid: worker.uid, start: worker.start });
        if ("refused" in group) {
          log[group.level](group.refused);
          return;
        }
        worker.execGroups.set(group.pid, group);
        options.execLedger?.started(group);
        // Read after the worker's exit was handled: nobody else will end it.
        if (worker.state === "dead") killExecGroups(worker);
        return;
      }
      case "exec_end":
        if (worker.execGroups.delete(m.pid)) options.execLedger?.ended(m.pid);
        return;
      case "exec_output": {
        const runId = worker.held.get(m.a)?.runId;
        if (runId !== undefined) options.captures?.output(runId, { opKey: m.opKey, attempt: m.attempt, stream: m.stream, text: m.text });
        return;
      }
      case "exec_artifact": {
        const runId = worker.held.get(m.a)?.runId;
        // An SDK worker caps artifacts at the value cap (capture.maxBytes); one that does not is not kept.
        if (m.content.length > Math.ceil(options.kernel.maxValueBytes / 3) * 4) {
          log.error(`worker ${worker.proc.pid} sent an artifact of ${m.content.length} base64 characters, more than the value cap allows (VILANO_MAX_VALUE_BYTES); not kept`);
          return;
        }
        const content = new Uint8Array(Buffer.from(m.content, "base64"));
        if (runId !== undefined) options.captures?.artifact(runId, { opKey: m.opKey, attempt: m.attempt, path: m.path, content, bytes: m.bytes });
        return;
      }
      case "importing": {
        const request = worker.requests.get(m.q);
        if (request) request.file = m.file;
        return;
      }
      case "answer": {
        const request = worker.requests.get(m.q);
        if (!request) return;
        worker.requests.delete(m.q);
        clearTimeout(request.timer);
        if (m.ok) request.resolve(m.value);
        else request.reject(new VilanoError(isErrorCode(m.error.code) ? m.error.code : "validation_failed", m.error.message, { details: m.error.details }));
        settleIdle(worker);
        return;
      }
    }
  }

  /** Refusals sent in place of replies that could not go: if one of those cannot go either, it is only said. */
  const refusalsSent = new WeakSet<ToWorker>();

  /** A message that could not be sent to a live worker, alone: what it costs, instead of a run that waits for it. */
  function onUnsent(worker: PoolWorker, message: ToWorker, error: unknown): void {
    const pid = worker.proc.pid;
    const cost = refusalsSent.has(message) ? { why: `a refusal could not be sent either: ${(error as Error)?.message ?? String(error)}` } : unsentToWorker(message, error);
    if ("fail" in cost && message.t === "activate") {
      const held = worker.held.get(message.a);
      if (!held || held.ended) return;
      log.error(`run ${held.runId}: ${cost.why}; the run fails (worker ${pid})`);
      kernel
        .finishActivation(held.runId, held.fence, cost.fail)
        .catch(quietly(`run ${held.runId}: could not record that its activation could not be sent`))
        .finally(() => end(worker, held));
      return;
    }
    log.error(`worker ${pid}: ${cost.why}`);
    if ("instead" in cost) {
      refusalsSent.add(cost.instead);
      worker.proc.send(cost.instead);
    }
  }

  function clearStep(worker: PoolWorker, a: number, cmd: OpCommand): void {
    if (cmd.type !== "step_completed" && cmd.type !== "step_failed") return;
    const held = worker.held.get(a);
    const step = held?.steps.get(cmd.opKey);
    if (!held || !step) return;
    if (step.timer) clearTimeout(step.timer);
    held.steps.delete(cmd.opKey);
  }

  // ---------------------------------------------------------------------------------------------
  // Exits

  function onExit(worker: PoolWorker, exit: WorkerExit): void {
    const wasLive = worker.state === "live" || worker.state === "expired";
    worker.state = "dead";
    addLive(retiredLive, worker.live);
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    // Subprocesses lead their own process groups, so the worker's death did not end them: end them now.
    killExecGroups(worker);
    if (worker.code) groups.get(worker.code.id)?.delete(worker);
    externals.delete(worker);
    const pid = worker.proc.pid;
    const how = worker.external ? "disconnected" : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    for (const [q, request] of worker.requests) {
      clearTimeout(request.timer);
      request.reject(new VilanoError("internal", `worker ${pid} ${how} before it answered${request.file ? ` (while importing ${request.file})` : ""}`));
      worker.requests.delete(q);
    }
    const held = [...worker.held.values()];
    if (closed || held.length === 0) {
      for (const h of held) end(worker, h);
      if (!closed && wasLive && worker.death === null) log.warn(`worker ${pid} ${how} while idle`);
      return;
    }
    // An external worker that leaves (even by crashing) is someone's terminal: its runs lose no attempt.
    const death = worker.death ?? (worker.external ? { kind: "disconnect" as DeathKind, victims: new Map<number, RunningStep>() } : null);
    if (!death) {
      stats.crashes++;
      log.error(`worker ${pid} ${how} while running ${held.map((h) => h.runId).join(", ")}${exit.stderr.length ? `; last stderr: ${exit.stderr.join(" | ")}` : ""}`);
    }
    // The code that called exit may run under an earlier activation of its run (a parked execution
    // resumed keeps the context it started in): blame the run, whichever activation holds it now.
    const culprit = exit.exitedBy === null ? null : (worker.held.get(exit.exitedBy)?.runId ?? worker.gone.get(exit.exitedBy) ?? null);
    const verdicts = death ? null : judgeCrash(held, culprit);
    if (verdicts && [...verdicts.values()].includes("suspect")) {
      log.warn(`worker ${pid} ${how} with ${verdicts.size} runs on it and no word of whose code it was; nobody is charged, and those runs go on in two halves, each on a worker of its own`);
      // Before any of them is given back (the kernel hands it out again at once).
      cohorts.isolate(held.filter((h) => verdicts.get(h.runId) === "suspect").map((h) => h.runId));
    }
    for (const h of held) {
      let outcome: Promise<unknown>;
      const victim = death?.victims.get(h.a);
      const verdict = verdicts?.get(h.runId);
      if (death?.kind === "hard_stop" && victim) {
        outcome = kernel.hardStopped(h.runId, h.fence, forcedTimeout(victim, pid));
      } else if (death) {
        outcome = kernel.relinquish(h.runId, h.fence, death.kind === "evacuated" ? evacuatedWhy(pid) : `its worker ${pid} was killed (${death.kind.replace("_", " ")})`);
      } else if (verdict === "bystander") {
        outcome = kernel.relinquish(h.runId, h.fence, `its worker ${pid} was ended by another run's code`);
      } else if (verdict === "suspect") {
        // In a cohort of suspects next (isolated above): a crash there is the cohort's, and the rest are safe from it.
        outcome = kernel.relinquish(h.runId, h.fence, `its worker ${pid} ${how} while it ran beside other runs; not charged, it goes on among fewer suspects, on a worker of their own`);
      } else {
        // Charged: it stays on workers of its own until an activation of it ends normally.
        cohorts.isolate([h.runId]);
        const crash = { workerPid: pid, exitCode: exit.exitCode, signal: exit.signal, stderr: exit.stderr, ...(culprit === h.runId && exit.exitedIn ? { opKey: exit.exitedIn } : {}) };
        outcome = kernel.activationCrashed(h.runId, h.fence, crash).then((crashed) => {
          if (!crashed) return;
          if (crashed.failed) log.error(`run ${h.runId} failed for good: it crashed its worker ${crashed.crashes} times in a row (worker_crashed)`);
          else log.warn(`run ${h.runId} lost its activation to worker ${pid}'s crash (${crashed.crashes} of 3 in a row); it runs again on another worker`);
        });
      }
      outcome.catch(quietly(`run ${h.runId}: after worker ${pid} died`)).finally(() => end(worker, h));
    }
    // What it held comes straight back: have a replacement starting already.
    if (worker.code && !worker.fresh && (groups.get(worker.code.id)?.size ?? 0) < options.size) spawnIn(worker.code, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Requests that need user code

  function request(worker: PoolWorker, message: ToWorker & { q: number }, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const pending = worker.requests.get(message.q);
        worker.requests.delete(message.q);
        reject(new VilanoError("timeout", `${what} did not finish within ${formatDuration(requestTimeout)}${pending?.file ? ` (while importing ${pending.file})` : ""}; its worker was killed`));
        kill(worker, "request_timeout");
      }, requestTimeout);
      worker.requests.set(message.q, { resolve, reject, timer });
      if (worker.idleTimer) clearTimeout(worker.idleTimer);
      worker.proc.send(message);
    });
  }

  return {
    stats,
    prewarm(code: CodeRef) {
      if (closed) return;
      const live = [...(groups.get(code.id) ?? [])].some((w) => w.state === "live" && !w.fresh);
      if (!live && options.isolation?.(code) !== "fresh") spawnIn(code, false);
    },
    forget(runId: string) {
      lastWorker.delete(runId);
      cohorts.release(runId);
      // Only a worker whose activation of the run ended suspended may have parked it.
      const worker = parkedIn.get(runId);
      if (!worker) return;
      parkedIn.delete(runId);
      if (worker.state === "live") worker.proc.send({ t: "forget", runId });
    },
    liveStats() {
      const total = { ...retiredLive };
      for (const group of groups.values()) for (const w of group) if (w.state !== "dead") addLive(total, w.live);
      for (const w of externals) if (w.state !== "dead") addLive(total, w.live);
      return total;
    },
    run,
    deliver(runId: string, opKey: string, outcome: LiveOutcome) {
      const live = byRun.get(runId);
      if (live && !live.held.ended) live.worker.proc.send({ t: "deliver", a: live.held.a, opKey, outcome });
    },
    async computeKey(code, service, keyInput) {
      if (closed) throw new VilanoError("runtime_closed", "the runtime is closed");
      // A key is a function of the code and the key input (SPEC: keys are pure), so a key input
      // seen before costs no round trip to a worker.
      const known = `${code.id}\u0000${service}\u0000${keyInput ?? ""}`;
      const cached = keys.get(known);
      if (cached !== undefined) return cached;
      const worker = assign(code);
      const key = await request(worker, { t: "key", q: nextRequest++, code, service, keyInput }, `computing the key of service "${service}"`);
      if (typeof key !== "string") throw new VilanoError("internal", `the worker answered a key that is not a string: ${toFailureBody(key).message}`);
      setBounded(keys, known, key, MAX_KEYS);
      return key;
    },
    placeOf(runId) {
      const on = byRun.get(runId);
      if (!on || on.held.ended || on.worker.state === "dead") return undefined;
      return placeOf(on.worker, Date.now(), sparesOf(on.worker.code).afterMs);
    },
    pids: () => [...groups.values()].flatMap((g) => [...g].filter((w) => w.state !== "dead").map((w) => w.proc.pid)),
    externalPids: () => [...externals].filter((w) => w.state !== "dead").map((w) => w.proc.pid),
    attachExternal(link) {
      const worker = newWorker(null, { fresh: false, external: true });
      const proc = externalWorker(link, { generation, maxValueBytes: options.kernel.maxValueBytes }, options.logger.withTag("worker"), {
        onReady: () => {
          if (closed) return proc.kill();
          worker.once = proc.once;
          externals.add(worker);
          log.info(`external worker ${proc.pid} connected${proc.once ? " (one activation)" : ""}`);
        },
        onMessage: (message) => onMessage(worker, message),
      });
      worker.proc = proc;
      void proc.exited.then((exit) => {
        if (proc.ready) log.info(`external worker ${proc.pid} disconnected`);
        onExit(worker, exit);
      });
      return { receive: (text) => proc.receive(text), closed: () => proc.closed() };
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(leaseCheck);
      const exits: Promise<unknown>[] = [];
      for (const group of [...groups.values(), externals]) {
        for (const worker of group) {
          exits.push(worker.proc.exited);
          kill(worker, "close");
        }
      }
      await Promise.all(exits);
      await Promise.all([...removals]);
    },
  };
}

/** The spawn option for a worker run as another OS user, when its code has one. */
const withUser = (user: { uid: number; gid: number } | undefined) => (user ? { user } : {});
