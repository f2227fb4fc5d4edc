/**
 * The kernel's face: what `createKernel` is given and what it offers (kernel.ts builds it). Apart
 * from the implementation, so a reader sees the whole of what the kernel does in one place.
 */
import type { Clock, Logger } from "../shared/index.ts";
import type { MessageRow, ProjectRow, RunListFilter, RunRow, Store, StoreOps } from "../store/index.ts";
import type { ChangeListener } from "./change-feed.ts";
import type { Executor } from "./executor.ts";
import type { DurabilityStats, GroupCommitStats } from "./group-commit.ts";
import type { ConnectRequest, EnqueueRequest, EnqueueResult } from "./inbox.ts";
import type { WorkerCrash } from "./lost-activations.ts";
import type { SignalDelivery } from "./signals.ts";
import type { Activation, ActivationResult, OpCommand, OpResolution, StartRunRequest, StartRunResult } from "./types.ts";

export interface KernelOptions {
  store: Store;
  clock?: Clock;
  logger?: Logger;
  /** The largest value recorded, in bytes (default 4 MiB). */
  maxValueBytes?: number;
  /** Fire sleeps ahead of their due time (default: with the system clock only; see timers.ts). */
  sleepLead?: boolean;
  /**
   * With several daemons on one database: how long a daemon's leases outlive its last heartbeat
   * before the others take its runs over (default 10 s; heartbeats go every second or so).
   */
  leaseTtlMs?: number;
}

export interface Kernel {
  /** Reads for views (inspect, event streams): committed state; writes go through commands only. */
  readonly reads: Pick<StoreOps, "listEvents">;
  /** The largest value recorded, in bytes: worker processes refuse larger ones before sending them. */
  readonly maxValueBytes: number;
  /**
   * Claims the database, recovers interrupted runs, dispatches pending ones and arms timers.
   * `claimed` runs once the database is this process's and before anything is recovered.
   */
  open(executor: Executor, claimed?: () => Promise<void>): Promise<void>;
  startRun(req: StartRunRequest): Promise<StartRunResult>;
  activate(runId: string): Promise<Activation | null>;
  reportOp(runId: string, fence: number, cmd: OpCommand): Promise<OpResolution>;
  finishActivation(runId: string, fence: number, result: ActivationResult): Promise<void>;
  /** Code went on `lateMs` after a sleep's due time: sleeps are then fired further ahead (timers.ts). */
  noteSleepLateness(lateMs: number): void;
  /** The activation holding `fence` is gone without a result (its worker was killed); the run goes again. */
  relinquish(runId: string, fence: number, why: string): Promise<boolean>;
  /** Records a timed step's attempt as forcibly timed out (its worker was killed), then runs the run again. */
  hardStopped(runId: string, fence: number, failure: OpCommand & { type: "step_failed" }): Promise<boolean>;
  /** The worker died holding this activation: one attempt spent; three in a row fail it (`worker_crashed`). */
  activationCrashed(runId: string, fence: number, crash: WorkerCrash): Promise<{ crashes: number; failed: boolean } | null>;
  signal(runId: string, name: string, payload: string | null): Promise<SignalDelivery>;
  cancel(runId: string, reason?: string): Promise<RunRow>;
  connect(req: ConnectRequest): Promise<{ run: RunRow; created: boolean }>;
  /** Enqueues mail from outside any run (scripts, the API). */
  enqueue(req: Omit<EnqueueRequest, "sender">): Promise<EnqueueResult>;
  /** Resolves with the message once it is done, failed or cancelled. */
  waitForMessage(messageId: number, signal?: AbortSignal): Promise<MessageRow>;
  /**
   * Resolves once every commit so far is durable. An ask's enqueue commits without waiting for the
   * disk (its reply's commit makes it durable); whoever tells the asker anything else first (a
   * refusal, a timeout) calls this before.
   */
  syncLog(): Promise<void>;
  stopInstance(runId: string, reason: string): Promise<RunRow>;
  /** Records (or replaces) a registered project; the kernel is the database's one writer. */
  recordProject(project: Omit<ProjectRow, "createdAt" | "updatedAt">): Promise<void>;
  /** Forgets a registered project; false when there was none of that name. */
  forgetProject(name: string): Promise<boolean>;
  getRun(runId: string): Promise<RunRow | null>;
  listRuns(filter?: RunListFilter): Promise<RunRow[]>;
  /** Resolves with the run once it is completed, failed or cancelled. */
  waitForTerminal(runId: string, signal?: AbortSignal): Promise<RunRow>;
  /** Resolves when every submitted command is committed. */
  drain(): Promise<void>;
  /** Hears, after each commit, which runs got new events; returns the way to stop hearing. */
  onChange(listener: ChangeListener): () => void;
  /** How many commits have touched runs so far: read it before reading what a page shows. */
  changeVersion(): number;
  /** The executor has room again and nothing queued: with several daemons, claim pending runs. */
  lookForWork(): void;
  /** The executor cannot run this run here (its code cannot be had): another daemon may claim it. */
  cannotRun(run: RunRow): void;
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
  /** Commits made without waiting for the disk, and the syncs that made them durable without a commit. */
  readonly durability: DurabilityStats;
}
