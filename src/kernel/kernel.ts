/**
 * The kernel: the single writer and owner of the truth. Every mutation is a command applied by the
 * group-commit queue; callers hear back only after their change is durable. It knows runs, ops,
 * timers, signals, services and the relationships between runs, not user code: the executor given
 * to `open` runs activations. After a commit fails it recovers by itself (see `recoverSoon`).
 */
import { DEFAULT_MAX_VALUE_BYTES, systemClock, VilanoError, type Clock, type DaemonInfo, type LiveOutcome, type Logger } from "../shared/index.ts";
import type { EventRow, PrefetchHint, ExitEventRow, MemberRow, MessageRow, OpRow, ProjectRow, RelationshipRow, RunListFilter, RunRow, SignalRow, Store, StoreOps, SubscriptionRow, SupervisorRow } from "../store/index.ts";
import { connectInstance, enqueueMessage, instanceId, MESSAGE_DONE_STATUSES, stopInstance, type ConnectRequest, type EnqueueRequest, type EnqueueResult } from "./inbox.ts";
import { checkValueSize } from "../shared/value-limit.ts";
import type { KernelContext } from "./context.ts";
import { createGroupCommitQueue, type GroupCommitStats } from "./group-commit.ts";
import { createChangeFeed, type ChangeListener } from "./change-feed.ts";
import { createMembership } from "./membership.ts";
import { reportOp } from "./op-journal.ts";
import { activationCrashed, hardStopped, relinquish, type WorkerCrash } from "./lost-activations.ts";
import { activate, cancelRun, finishActivation, recover, recoverAfterFailedCommit, startRun } from "./run-lifecycle.ts";
import { sendSignal, type SignalDelivery } from "./signals.ts";
import { createSleepLead, createWakeTimer, fireDueTimers, nextArmAt } from "./timers.ts";
import {
  isTerminal,
  type Activation,
  type ActivationResult,
  type OpCommand,
  type OpResolution,
  type StartRunRequest,
  type StartRunResult,
} from "./types.ts";

/**
 * Runs activations. A ready run is either leased by the kernel inside the transaction that made it
 * ready (when `reserve` says there is room) and handed over with `runLeased` after commit, or left
 * pending and announced with `dispatch`, for the executor to lease with `activate` later.
 */
export interface Executor {
  dispatch(run: RunRow): void;
  /** Called inside a command; must not do I/O. True reserves a slot for one leased activation. */
  reserve(run: RunRow): boolean;
  release(run: RunRow): void;
  runLeased(activation: Activation): void;
  /** Stops the run's activations here; with `upToFence`, only those holding that lease or an older one. */
  abort(runId: string, upToFence?: number): void;
  /** Hands a committed outcome to the run's live activation, if it has one and still waits. */
  deliver?(runId: string, opKey: string, outcome: LiveOutcome): void;
  /** The run has ended: what is kept in memory for its next activation can go. */
  runEnded?(runId: string): void;
  /** How many more runs it could take on now (slots neither running, reserved nor queued). */
  room?(): number;
  /** Whether an activation of the run may be running here. */
  holds?(runId: string): boolean;

}

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

export interface RunHistory {
  run: RunRow;
  ops: OpRow[];
  events: EventRow[];
  signals: SignalRow[];
  /** For a service instance: its latest messages (queued ones and the turns it handled). */
  messages: MessageRow[];
  /** The runs it started (ctx.spawn). */
  children: RunRow[];
  /** The monitors and links it holds. */
  relationships: RelationshipRow[];
  /** Exit events queued for it (or taken), oldest first. */
  exits: ExitEventRow[];
  /** A service instance's topic subscriptions. */
  subscriptions: SubscriptionRow[];
  /** Its supervision groups, each with its members and their current runs' statuses. */
  supervision: { group: SupervisorRow; members: (MemberRow & { status: RunRow["status"] })[] }[];
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
  stopInstance(runId: string, reason: string): Promise<RunRow>;
  /** Records (or replaces) a registered project; the kernel is the database's one writer. */
  recordProject(project: Omit<ProjectRow, "createdAt" | "updatedAt">): Promise<void>;
  /** Forgets a registered project; false when there was none of that name. */
  forgetProject(name: string): Promise<boolean>;
  getRun(runId: string): Promise<RunRow | null>;
  history(runId: string): Promise<RunHistory | null>;
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
  /** The daemons sharing the database (this one included), or null on a store of one daemon. */
  daemons(): Promise<DaemonInfo[] | null>;
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
}

const RECOVERY_FIRST_MS = 200;
const RECOVERY_MAX_MS = 5_000;
const DEFAULT_LEASE_TTL_MS = 10_000;

export function createKernel(options: KernelOptions): Kernel {
  const { store } = options;
  const reads = store.reads;
  const clock = options.clock ?? systemClock;
  const log = options.logger?.withTag("kernel");
  let executor: Executor | null = null;
  let opened = false;
  let closed = false;
  const terminalWaiters = new Map<string, Set<{ resolve: (run: RunRow) => void; reject: (error: unknown) => void }>>();
  const messageWaiters = new Map<number, Set<{ resolve: (message: MessageRow) => void; reject: (error: unknown) => void }>>();

  const feed = createChangeFeed((error) => log?.error("a change listener failed:", error));
  const cluster = store.cluster;
  const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const membership = cluster
    ? createMembership({
        cluster,
        reads,
        executor: () => executor,
        logger: options.logger,
        leaseTtlMs,
        touched(runIds) {
          for (const runId of runIds) feed.touched(runId);
          feed.committed();
        },
        ended: (runId) => endedElsewhere(runId),
        aborted: (runId) => abortedElsewhere(runId),
        messageDone: (messageId) => messageDoneElsewhere(messageId),
        async takeOver(dead) {
          const pending = await queue.submit((tx) => recover(ctx, tx, dead, leaseTtlMs));
          for (const run of pending) executor?.dispatch(run);
          await armNext();
          // A daemon that died right after a commit told nobody what it ended: look again.
          await lookAgainForWaiters();
        },
        resync: () => lookAgainForWaiters(),
        async idleLeases(leases) {
          // Submitted together: one batch for all of them.
          await Promise.all(leases.map(({ id, fence }) => queue.submit((tx) => relinquish(ctx, tx, id, fence, "leased by this daemon with nothing running it"))));
          membership?.claimPending();
        },
        // Whatever it leased meanwhile goes again too, under new fences: aborting code alone would
        // leave those runs leased to a live member with nothing running them.
        lostMembership: () =>
          void queue
            .submit((tx) => recoverAfterFailedCommit(ctx, tx, "this daemon was counted dead by the others; the run goes again"))
            .then(() => membership?.claimPending())
            .catch((error: unknown) => log?.error("could not put this daemon's runs right after it was counted dead:", error)),
      })
    : null;
  const queue = createGroupCommitQueue(
    store,
    clock.now,
    (error) => log?.error("post-commit effect failed:", error),
    (error) => recoverSoon(error),
    () => feed.committed(),
    membership ? () => membership.announce() : null,
  );

  // After a failed commit the kernel puts itself right as soon as the database takes writes again.
  // The recovery command goes first in the very next batch, so no activation that lost a report in
  // the failed batch commits anything more under its old fence; while it fails, it is retried with
  // a growing wait.
  let recovering = false;
  let recoveryDelay = RECOVERY_FIRST_MS;
  let recoveryTimer: unknown = null;
  let lastFailureAt = -Infinity;
  function recoverSoon(error: unknown): void {
    // Before `open` has finished, a failed batch is its own recovery failing: `open` says so.
    if (closed || recovering || !opened) return;
    recovering = true;
    const now = clock.now();
    // A failure soon after the last one (the disk is still full) waits longer each time, so a run
    // that fills the disk again at once is not retried in a tight loop.
    const repeated = now - lastFailureAt < RECOVERY_MAX_MS;
    lastFailureAt = now;
    if (!repeated) recoveryDelay = RECOVERY_FIRST_MS;
    log?.error(`a commit failed; runs that were running go again once the database takes writes${repeated ? ` (in ${recoveryDelay} ms)` : ""}:`, error);
    if (!repeated) return void recoverFromFailedCommit();
    recoveryTimer = clock.setTimer(() => {
      recoveryTimer = null;
      void recoverFromFailedCommit();
    }, recoveryDelay);
    recoveryDelay = Math.min(recoveryDelay * 2, RECOVERY_MAX_MS);
  }
  async function recoverFromFailedCommit(): Promise<void> {
    if (closed) return;
    try {
      const pending = await queue.submitFirst((tx) => recoverAfterFailedCommit(ctx, tx));
      recovering = false;
      log?.info(`recovered after a failed commit; ${pending.length} run(s) dispatched again`);
      for (const run of pending) executor?.dispatch(run);
      membership?.claimPending();
      await armNext();
    } catch {
      if (closed) return;
      // Still failing (the disk is still full): try again after a while, longer each time.
      log?.warn(`recovery after a failed commit could not commit either; retrying in ${recoveryDelay} ms`);
      recoveryTimer = clock.setTimer(() => {
        recoveryTimer = null;
        void recoverFromFailedCommit();
      }, recoveryDelay);
      recoveryDelay = Math.min(recoveryDelay * 2, RECOVERY_MAX_MS);
    }
  }

  const wakeTimer = createWakeTimer(clock, () => void fireTimers());
  const lead = createSleepLead(options.sleepLead ?? clock === systemClock);
  const armNext = async () => {
    try {
      wakeTimer.arm(await nextArmAt(store.reads, lead.ms, clock.now()));
    } catch (error) {
      if (closed) return;
      log?.error("could not read the next timer; looking again in 1s:", error);
      wakeTimer.arm(clock.now() + 1_000);
    }
  };

  const ctx: KernelContext = {
    store,
    maxValueBytes: options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    dispatch: (run) => executor?.dispatch(run),
    reserve: (run) => executor?.reserve(run) ?? false,
    release: (run) => executor?.release(run),
    runLeased: (activation) => executor?.runLeased(activation),
    armTimer: (at, kind) => wakeTimer.arm(kind === "sleep" ? at - lead.ms : at),
    notifyTerminal: (run) => {
      executor?.runEnded?.(run.id);
      const waiters = terminalWaiters.get(run.id);
      if (!waiters) return;
      terminalWaiters.delete(run.id);
      for (const waiter of waiters) waiter.resolve(run);
    },
    abortActivation: (runId, upToFence) => executor?.abort(runId, upToFence),
    deliverLive: (runId, opKey, outcome) => executor?.deliver?.(runId, opKey, outcome),
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
    notifyMessage: (message) => {
      const waiters = messageWaiters.get(message.id);
      if (!waiters) return;
      messageWaiters.delete(message.id);
      for (const waiter of waiters) waiter.resolve(message);
    },
  };

  /**
   * Waits for a notification keyed by `key`, unless `ready()` already has the answer. The waiter is
   * registered before the read: a notice after commit that lands while the read is in flight
   * still finds it.
   */
  async function waitFor<K, T>(
    waiters: Map<K, Set<{ resolve: (value: T) => void; reject: (error: unknown) => void }>>,
    key: K,
    ready: () => Promise<T | null>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (closed) throw new VilanoError("runtime_closed", "the runtime is closed");
    let set = waiters.get(key);
    if (!set) waiters.set(key, (set = new Set()));
    const forget = () => {
      set!.delete(waiter);
      if (set!.size === 0 && waiters.get(key) === set) waiters.delete(key);
    };
    let waiter!: { resolve: (value: T) => void; reject: (error: unknown) => void };
    const notified = new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
    // Rejected by an abort or a close while the read was in flight, it may never be awaited.
    notified.catch(() => {});
    set.add(waiter);
    const onAbort = () => {
      forget();
      waiter.reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      let now: T | null;
      try {
        now = await ready();
      } catch (error) {
        forget(); // no such run: nothing will ever be told
        throw error;
      }
      if (now !== null) {
        forget();
        return now;
      }
      return await notified;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Result waiters whose notice may never have come: each looks at the database once more. */
  async function lookAgainForWaiters(): Promise<void> {
    await Promise.all([...terminalWaiters.keys()].map((runId) => endedElsewhere(runId)));
    await Promise.all([...messageWaiters.keys()].map((messageId) => messageDoneElsewhere(messageId)));
  }

  /** Another daemon ended the run: its waiters here hear, and an activation of it here stops. */
  async function endedElsewhere(runId: string): Promise<void> {
    const holds = executor?.holds?.(runId) ?? false;
    if (!holds && !terminalWaiters.has(runId)) return void executor?.runEnded?.(runId);
    const run = await reads.getRun(runId);
    if (!run || !isTerminal(run.status)) return;
    if (holds) executor?.abort(runId);
    ctx.notifyTerminal(run);
  }

  /** Another daemon undid the run's lease (a cancelled turn): an activation here under an older lease stops. */
  async function abortedElsewhere(runId: string): Promise<void> {
    if (!(executor?.holds?.(runId) ?? false)) return;
    const run = await reads.getRun(runId);
    // No activation under an older lease can report any more: stopping it changes nothing but the code.
    if (run) executor?.abort(runId, run.leaseFence - 1);
  }

  async function messageDoneElsewhere(messageId: number): Promise<void> {
    if (!messageWaiters.has(messageId)) return;
    const message = await reads.getMessage(messageId);
    if (message && MESSAGE_DONE_STATUSES.includes(message.status)) ctx.notifyMessage(message);
  }

  async function fireTimers(): Promise<void> {
    if (closed) return;
    try {
      const submitted = performance.now();
      const { fired, sleeps, nextAt } = await queue.submit((tx) => fireDueTimers(ctx, tx, lead.ms));
      if (sleeps > 0) lead.observe(performance.now() - submitted);
      if (fired > 0) log?.debug(`fired ${fired} timer(s)`);
      wakeTimer.arm(nextAt);
    } catch (error) {
      if (closed) return;
      log?.error("firing timers failed; retrying in 1s:", error);
      wakeTimer.arm(clock.now() + 1_000);
    }
  }

  const submit = <T>(fn: (tx: Parameters<Parameters<typeof queue.submit>[0]>[0]) => Promise<T>, hint?: PrefetchHint) => {
    if (!executor) return Promise.reject(new VilanoError("internal", "the kernel is not open"));
    return queue.submit(fn, hint);
  };

  return {
    reads: store.reads,
    maxValueBytes: ctx.maxValueBytes,
    stats: queue.stats,
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
        membership?.stop();
        wakeTimer.stop();
        await queue.close();
        await store.releaseWriter();
        throw error;
      }
      opened = true;
      for (const run of pending) exec.dispatch(run);
      membership?.claimPending();
      await armNext();
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
    noteSleepLateness: (lateMs) => lead.noteLateness(lateMs),
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
      ),
    stopInstance: (runId, reason) => submit((tx) => stopInstance(ctx, tx, runId, reason)),
    recordProject: (project) => submit((tx) => store.putProject(project, tx.now)),
    forgetProject: (name) => submit(() => store.deleteProject(name)),
    getRun: (runId) => reads.getRun(runId),
    async history(runId) {
      const run = await reads.getRun(runId);
      if (!run) return null;
      const [ops, events, signals, messages, children, relationships, exits, subscriptions, groups] = await Promise.all([
        reads.listOps(runId),
        reads.listEvents(runId),
        reads.listSignals(runId),
        run.kind === "service" ? reads.listMessages(runId, 200) : [],
        reads.listChildren(runId),
        reads.relationshipsOf(runId),
        reads.listExitEvents(runId),
        run.kind === "service" ? reads.subscriptionsOf(runId) : [],
        reads.listSupervisors(runId),
      ]);
      const supervision = await Promise.all(
        groups.map(async (group) => ({
          group,
          members: await Promise.all(
            (await reads.listMembers(runId, group.groupKey)).map(async (m) => ({ ...m, status: (await reads.getRun(m.runId))?.status ?? ("pending" as const) })),
          ),
        })),
      );
      return { run, ops, events, signals, messages, children, relationships, exits, subscriptions, supervision };
    },
    listRuns: (filter) => reads.listRuns(filter),
    waitForTerminal(runId, signal) {
      return waitFor(terminalWaiters, runId, async () => {
        const run = await reads.getRun(runId);
        if (!run) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
        return isTerminal(run.status) ? run : null;
      }, signal);
    },
    waitForMessage(messageId, signal) {
      return waitFor(messageWaiters, messageId, async () => {
        const message = await reads.getMessage(messageId);
        if (!message) throw new VilanoError("not_found", `message ${messageId} does not exist`);
        return MESSAGE_DONE_STATUSES.includes(message.status) ? message : null;
      }, signal);
    },
    drain: () => queue.drain(),
    onChange: (listener) => feed.subscribe(listener),
    changeVersion: () => feed.version(),
    lookForWork: () => membership?.lookForWork(),
    cannotRun: (run) => membership?.cannotRun(run),
    async daemons() {
      if (!cluster) return null;
      return (await cluster.members()).map((m) => ({
        id: m.id,
        host: m.host,
        pid: m.pid,
        version: m.version,
        startedAt: Math.round(m.startedAt),
        silentMs: Math.max(0, Math.round(m.silentMs)),
        self: m.id === cluster.daemonId,
      }));
    },
    async close() {
      if (closed) return;
      closed = true;
      membership?.stop();
      wakeTimer.stop();
      if (recoveryTimer !== null) clock.clearTimer(recoveryTimer);
      await queue.close();
      const error = new VilanoError("runtime_closed", "the runtime was closed while waiting for a run");
      for (const waiters of [...terminalWaiters.values(), ...messageWaiters.values()]) for (const w of waiters) w.reject(error);
      terminalWaiters.clear();
      messageWaiters.clear();
      await store.releaseWriter();
    },
  };
}
