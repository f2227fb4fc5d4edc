/**
 * What the parts of the worker pool share (pool.ts is the façade; placement, activations, messages,
 * step deadlines, leases and exits are pool-*.ts): the options, the settings resolved from them
 * once, the workers by code, the runs' places, and the counters. One object passed to each part,
 * so what a function reads and changes is in its signature.
 */
import type { Logger } from "../shared/index.ts";
import type { Kernel } from "../kernel/index.ts";
import type { CaptureSink, Catalog, CodeRef, CodeWorkspace } from "../core/index.ts";
import type { LiveExecutionStats } from "../engine/index.ts";
import { DEFAULT_SPARE_AFTER_MS, DEFAULT_SPARE_WORKERS } from "../project/index.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import type { SpareSettings } from "./blocked-workers.ts";
import { createCohorts, type Cohorts } from "./crash-cohorts.ts";
import type { ExecGroup } from "./exec-groups.ts";
import type { Held, PoolWorker } from "./pool-worker.ts";
import type { WorkerExit, WorkerProcess } from "./worker-process.ts";

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

/** Where what a worker says goes: the pool's message handling and exits (wired by the façade). */
export interface WorkerEvents {
  message(worker: PoolWorker, message: FromWorker): void;
  unsent(worker: PoolWorker, message: ToWorker, error: unknown): void;
  exit(worker: PoolWorker, exit: WorkerExit): void;
}

/** How many runs' previous workers (and parked executions, and suspects) are remembered. */
export const MAX_STICKY = 100_000;

export interface PoolState {
  readonly options: WorkerPoolOptions;
  readonly kernel: Kernel;
  readonly log: Logger;
  readonly runLog: Logger;
  readonly generation: string;
  readonly settings: {
    readonly hardStopGraceMs: number;
    readonly cancelGraceMs: number;
    readonly leaseTtlMs: number;
    readonly idleRetireMs: number;
    readonly requestTimeoutMs: number;
  };
  readonly events: WorkerEvents;
  /** Pooled workers and workers of their own, by the id of the code they run. */
  readonly groups: Map<string, Set<PoolWorker>>;
  readonly externals: Set<PoolWorker>;
  /** Where each run's current activation is. */
  readonly byRun: Map<string, { worker: PoolWorker; held: Held }>;
  /**
   * Runs suspected of blocking or crashing a worker, and runs charged a crash: their activations
   * go to their cohort's own worker until one of them ends normally (crash-cohorts.ts).
   */
  readonly cohorts: Cohorts<PoolWorker>;
  /**
   * The worker that last ran each run (bounded). A run's next activation goes back there while it
   * is live and answering: its modules are loaded and warm, and whatever the code kept in memory
   * is still there (a cache, never a source of truth: a replay elsewhere gives the same result).
   */
  readonly lastWorker: Map<string, PoolWorker>;
  /** The worker each suspended run was last suspended in (where its execution may be parked). */
  readonly parkedIn: Map<string, PoolWorker>;
  /** Keys computed for key inputs (per code snapshot and service). */
  readonly keys: Map<string, string>;
  readonly stats: PoolStats;
  /** What workers that have exited said of their parked executions. */
  readonly retiredLive: LiveExecutionStats;
  /** Workspaces being removed: closing waits for them, so what is left afterwards is only what was kept. */
  readonly removals: Set<Promise<void>>;
  /** Refusals sent in place of replies that could not go: if one of those cannot go either, it is only said. */
  readonly refusalsSent: WeakSet<ToWorker>;
  /** A worker started ahead of any code, for the first code that can adopt it (pool-standby.ts). */
  standby: Standby | null;
  nextActivation: number;
  nextRequest: number;
  closed: boolean;
}

export function createPoolState(options: WorkerPoolOptions, events: WorkerEvents): PoolState {
  return {
    options,
    kernel: options.kernel,
    log: options.logger.withTag("pool"),
    runLog: options.logger.withTag("run"),
    generation: options.generation ?? crypto.randomUUID(),
    settings: {
      hardStopGraceMs: options.hardStopGraceMs ?? 100,
      cancelGraceMs: options.cancelGraceMs ?? 1_000,
      leaseTtlMs: options.leaseTtlMs ?? 5_000,
      idleRetireMs: options.idleRetireMs ?? 300_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
    },
    events,
    groups: new Map(),
    externals: new Set(),
    byRun: new Map(),
    cohorts: createCohorts<PoolWorker>(MAX_STICKY),
    lastWorker: new Map(),
    parkedIn: new Map(),
    keys: new Map(),
    stats: { spawned: 0, hardStops: 0, crashes: 0, expired: 0, cancelKills: 0, spares: 0, evacuations: 0 },
    retiredLive: { parked: 0, resumed: 0, evicted: 0, stale: 0 },
    removals: new Set(),
    refusalsSent: new WeakSet(),
    standby: null,
    nextActivation: 1,
    nextRequest: 1,
    closed: false,
  };
}

/** The spare workers and the blocked silence of this code (the project's, or the defaults). */
export const sparesOf = (state: PoolState, code: CodeRef | null): SpareSettings =>
  (code && state.options.spares?.(code)) || { workers: DEFAULT_SPARE_WORKERS, afterMs: DEFAULT_SPARE_AFTER_MS };

/** Adds what a worker said of its parked executions to a total. */
export function addLive(into: LiveExecutionStats, from: LiveExecutionStats): LiveExecutionStats {
  for (const k of ["parked", "resumed", "evicted", "stale"] as const) into[k] += from[k];
  return into;
}

/** The worker started ahead of any code (pool-standby.ts), until code adopts it. */
export interface Standby {
  readonly proc: WorkerProcess;
  /** The environment it started with: only code whose workers start with exactly this one adopts it. */
  readonly env: Readonly<Record<string, string>>;
  /** When its process started (clock ticks since boot), read while it surely lives. */
  readonly start: number | null;
  readonly retire: ReturnType<typeof setTimeout>;
  /** Set on adoption: from then on what it says and its exit are this pooled worker's. */
  adopted: PoolWorker | null;
}
