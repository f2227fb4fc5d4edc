/**
 * The kernel: the single writer and owner of the truth. Every mutation is a command applied by the
 * group-commit queue; callers hear back only after their change is durable (an ask's message is
 * the one exception, told to nobody until its reply's durable commit: see `enqueue`). It knows runs, ops,
 * timers, signals, services and the relationships between runs, not user code: the executor given
 * to `open` runs activations. Its neighbours have files of their own: recovery after a failed
 * commit (failed-commit-recovery.ts), result and message waiters (waiters.ts), the wake-up timer
 * (wake-ups.ts), the wiring to other daemons (cluster-wiring.ts); inspection reads are the core's.
 */
import { DEFAULT_MAX_VALUE_BYTES, runNotFound, systemClock, VilanoError } from "../shared/index.ts";
import type { MessageRow, PrefetchHint, RunRow } from "../store/index.ts";
import { connectInstance, enqueueMessage, instanceId, MESSAGE_DONE_STATUSES, stopInstance } from "./inbox.ts";
import { checkValueSize } from "../shared/value-limit.ts";
import type { KernelContext } from "./context.ts";
import type { Executor } from "./executor.ts";
import type { Kernel, KernelOptions } from "./kernel-api.ts";
import { createGroupCommitQueue, type Command, type SubmitOptions } from "./group-commit.ts";
import { createChangeFeed } from "./change-feed.ts";
import { wireCluster } from "./cluster-wiring.ts";
import { createFailedCommitRecovery } from "./failed-commit-recovery.ts";
import { createWaiters } from "./waiters.ts";
import { reportOp } from "./op-journal.ts";
import { activationCrashed, hardStopped, relinquish } from "./lost-activations.ts";
import { activate, cancelRun, finishActivation, recover, recoverAfterFailedCommit, startRun } from "./run-lifecycle.ts";
import { sendSignal } from "./signals.ts";
import { fireDueTimers } from "./timers.ts";
import { createWakeUps } from "./wake-ups.ts";
import { isTerminal } from "./types.ts";

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
