/**
 * The kernel: the single writer and owner of the truth. Every mutation is a command applied by the
 * group-commit queue; callers hear back only after their change is durable (an ask's message is
 * the one exception, told to nobody until its reply's durable commit: see `enqueue`). It knows runs, ops,
 * timers, signals, services and the relationships between runs, not user code: the executor given
 * to `open` runs activations. Its neighbours have files of their own: recovery after a failed
 * commit (failed-commit-recovery.ts), result and message waiters (waiters.ts), the wake-up timer
 * (wake-ups.ts), the wiring to other daemons (cluster-wiring.ts); inspection reads are the core's.
 */
import { DEFAULT_MAX_VALUE_BYTES, runNotFound, systemClock, VilanoError, type Clock, type Logger } from "../shared/index.ts";
import type { MessageRow, PrefetchHint, ProjectRow, RunListFilter, RunRow, Store, StoreOps } from "../store/index.ts";
import { connectInstance, enqueueMessage, instanceId, MESSAGE_DONE_STATUSES, stopInstance, type ConnectRequest, type EnqueueRequest, type EnqueueResult } from "./inbox.ts";
import { checkValueSize } from "../shared/value-limit.ts";
import type { KernelContext } from "./context.ts";
import type { Executor } from "./executor.ts";
import { createGroupCommitQueue, type Command, type DurabilityStats, type GroupCommitStats, type SubmitOptions } from "./group-commit.ts";
import { createChangeFeed, type ChangeListener } from "./change-feed.ts";
import { wireCluster } from "./cluster-wiring.ts";
import { createFailedCommitRecovery } from "./failed-commit-recovery.ts";
import { createWaiters } from "./waiters.ts";
import { reportOp } from "./op-journal.ts";
import { activationCrashed, hardStopped, relinquish, type WorkerCrash } from "./lost-activations.ts";
import { activate, cancelRun, finishActivation, recover, recoverAfterFailedCommit, startRun } from "./run-lifecycle.ts";
import { sendSignal, type SignalDelivery } from "./signals.ts";
import { fireDueTimers } from "./timers.ts";
import { createWakeUps } from "./wake-ups.ts";
import {
  isTerminal,
  type Activation,
  type ActivationResult,
  type OpCommand,
  type OpResolution,
  type StartRunRequest,
  type StartRunResult,
} from "./types.ts";

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

const DEFAULT_LEASE_TTL_MS = 10_000;

export function createKernel(options: KernelOptions): Kernel {
  const { store } = options;
  const reads = store.reads;
  const clock = options.clock ?? systemClock;
  const log = options.logger?.withTag("kernel");
  let executor: Executor | null = null;
  let closed = false;
  const runWaiters = createWaiters<string, RunRow>(() => closed);
  const messageWaiters = createWaiters<number, MessageRow>(() => closed);
  const feed = createChangeFeed((error) => log?.error("a change listener failed:", error));

  const wakeUps = createWakeUps({
    reads,
    clock,
    log,
    sleepLead: options.sleepLead ?? clock === systemClock,
    fire: (leadMs) => queue.submit((tx) => fireDueTimers(ctx, tx, leadMs)),
    isClosed: () => closed,
  });

  // `membership` and `queue` are declared below: these hooks run only inside commands and after
  // commits, once the kernel is built.
  const ctx: KernelContext = {
    store,
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    dispatch: (run) => executor?.dispatch(run),
    reserve: (run) => executor?.reserve(run) ?? false,
    release: (run) => executor?.release(run),
    runLeased: (activation) => executor?.runLeased(activation),
    armTimer: (at, kind) => wakeUps.arm(at, kind),
    notifyTerminal: (run) => {
      executor?.runEnded(run.id);
      runWaiters.notify(run.id, run);
    },
    abortActivation: (runId, upToFence) => executor?.abort(runId, upToFence),
    deliverLive: (runId, opKey, outcome) => executor?.deliver(runId, opKey, outcome),
    touched: (runId) => {
      feed.touched(runId);
      membership?.noteTouched(runId);
    },
    tell: {
      ended: (runId) => membership?.noteEnded(runId),
      aborted: (runId) => membership?.noteAborted(runId),
      messageDone: (messageId) => membership?.noteMessageDone(messageId),
      pending: () => membership?.notePending(),
    },
    notifyMessage: (message) => messageWaiters.notify(message.id, message),
  };

  const cluster = store.cluster;
  const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const membership = cluster
    ? wireCluster({
        cluster,
        ctx,
        reads,
        executor: () => executor,
        logger: options.logger,
        leaseTtlMs,
        feed,
        runWaiters,
        messageWaiters,
        submit: (command) => queue.submit(command),
        armNext: () => wakeUps.armNext(),
      })
    : null;
  const recovery = createFailedCommitRecovery({
    clock,
    log,
    recover: () => queue.submitFirst((tx) => recoverAfterFailedCommit(ctx, tx)),
    async recovered(pending) {
      for (const run of pending) executor?.dispatch(run);
      membership?.claimPending();
      await wakeUps.armNext();
    },
  });
  const queue = createGroupCommitQueue(
    store,
    clock.now,
    (error) => log?.error("post-commit effect failed:", error),
    (error) => recovery.failed(error),
    () => feed.committed(),
    membership ? () => membership.announce() : null,
  );

  const submit = <T>(fn: Command<T>, hint?: PrefetchHint, options?: SubmitOptions) => {
    if (!executor) return Promise.reject(new VilanoError("internal", "the kernel is not open"));
    return queue.submit(fn, hint, options);
  };

  return {
    reads: store.reads,
    maxValueBytes: ctx.maxValueBytes,
    stats: queue.stats,
    durability: queue.durability,
    async open(exec, claimed) {
      if (executor) throw new VilanoError("internal", "the kernel is already open");
      await store.claimWriter();
      await claimed?.();
      executor = exec;
      let pending: RunRow[];
      try {
        // With several daemons: hear the others before recovering, so no notice falls in between.
        await membership?.start();
        const dead = cluster ? await cluster.deadMembers(leaseTtlMs) : [];
        pending = await queue.submitFirst((tx) => recover(ctx, tx, dead, leaseTtlMs));
      } catch (error) {
        // Nothing of this kernel goes on: no recovery loop, no timer, no more batches.
        executor = null;
        closed = true;
        recovery.stop();
        membership?.stop();
        wakeUps.stop();
        await queue.close();
        await store.releaseWriter();
        throw error;
      }
      recovery.start();
      for (const run of pending) exec.dispatch(run);
      membership?.claimPending();
      await wakeUps.armNext();
    },
    // Values from outside are checked here, at the edge; ops are checked when they are reported, and
    // values already stored (a supervised restart's input) are never checked again.
    startRun: (req) =>
      submit(
        async (tx) => {
          if (req.id === undefined || !(await store.getRun(req.id))) checkValueSize(req.input, ctx.maxValueBytes, `the input of ${req.kind ?? "workflow"} "${req.name}"`);
          return startRun(ctx, tx, req);
        },
        req.id === undefined ? undefined : { runId: req.id },
      ),
    activate: (runId) => submit((tx) => activate(ctx, tx, runId), { runId, leasing: true }),
    reportOp: (runId, fence, cmd) => submit((tx) => reportOp(ctx, tx, runId, fence, cmd), { runId, opKey: cmd.opKey }),
    noteSleepLateness: (lateMs) => wakeUps.noteLateness(lateMs),
    finishActivation: (runId, fence, result) =>
      submit((tx) => finishActivation(ctx, tx, runId, fence, result), { runId, ending: result.type === "completed" || result.type === "failed" }),
    relinquish: (runId, fence, why) => submit((tx) => relinquish(ctx, tx, runId, fence, why)),
    hardStopped: (runId, fence, failure) => submit((tx) => hardStopped(ctx, tx, runId, fence, failure)),
    activationCrashed: (runId, fence, crash) => submit((tx) => activationCrashed(ctx, tx, runId, fence, crash)),
    signal: (runId, name, payload) =>
      submit(async (tx) => {
        checkValueSize(payload, ctx.maxValueBytes, `the payload of signal "${name}"`);
        return sendSignal(ctx, tx, runId, name, payload);
      }),
    cancel: (runId, reason) => submit((tx) => cancelRun(ctx, tx, runId, reason)),
    connect: (req) =>
      submit(async (tx) => {
        if (!(await store.getRun(instanceId(req.project, req.service, req.key)))) checkValueSize(req.keyInput, ctx.maxValueBytes, `the key input of service "${req.service}"`);
        return connectInstance(ctx, tx, req);
      }),
    enqueue: (req) =>
      submit(
        async (tx) => {
          checkValueSize(req.payload, ctx.maxValueBytes, `the payload of ${req.kind} "${req.handler}"`);
          return enqueueMessage(ctx, tx, { ...req, sender: null });
        },
        { runId: req.serviceRunId },
        // An ask's acceptance is told to nobody: its caller waits for the reply, whose commit waits
        // for the disk and so makes the message durable too — one fsync per ask instead of two. A
        // send's acceptance is its answer, so it waits.
        { durable: req.kind !== "ask" },
      ),
    stopInstance: (runId, reason) => submit((tx) => stopInstance(ctx, tx, runId, reason)),
    recordProject: (project) => submit((tx) => store.putProject(project, tx.now)),
    forgetProject: (name) => submit(() => store.deleteProject(name)),
    getRun: (runId) => reads.getRun(runId),
    listRuns: (filter) => reads.listRuns(filter),
    waitForTerminal(runId, signal) {
      return runWaiters.wait(runId, async () => {
        const run = await reads.getRun(runId);
        if (!run) throw runNotFound(runId);
        return isTerminal(run.status) ? run : null;
      }, signal);
    },
    waitForMessage(messageId, signal) {
      return messageWaiters.wait(messageId, async () => {
        const message = await reads.getMessage(messageId);
        if (!message) throw new VilanoError("not_found", `message ${messageId} does not exist`);
        return MESSAGE_DONE_STATUSES.includes(message.status) ? message : null;
      }, signal);
    },
    syncLog: () => queue.syncLog(),
    drain: () => queue.drain(),
    onChange: (listener) => feed.subscribe(listener),
    changeVersion: () => feed.version(),
    lookForWork: () => membership?.lookForWork(),
    cannotRun: (run) => membership?.cannotRun(run),
    async close() {
      if (closed) return;
      closed = true;
      recovery.stop();
      membership?.stop();
      wakeUps.stop();
      await queue.close();
      // The last batches may have been asks' messages that did not wait for the disk: a closed
      // runtime leaves everything it accepted durable.
      await queue.syncLog().catch((error: unknown) => log?.error("could not sync the database's log on close:", error));
      const error = new VilanoError("runtime_closed", "the runtime was closed while waiting for a run");
      runWaiters.rejectAll(error);
      messageWaiters.rejectAll(error);
      await store.releaseWriter();
    },
  };
}
