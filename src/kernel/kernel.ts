/**
 * The kernel: the single writer and owner of the truth. Every mutation is a command applied by the
 * group-commit queue; callers hear back only after their change is durable. It knows runs, ops,
 * timers and signals, not user code: an executor registered with `setExecutor` runs activations.
 */
import { systemClock, VilanoError, type Clock, type Logger } from "../shared/index.ts";
import type { EventRow, OpRow, RunRow, SignalRow, Store } from "../store/index.ts";
import type { KernelContext } from "./context.ts";
import { createGroupCommitQueue, type GroupCommitStats } from "./group-commit.ts";
import { reportOp } from "./op-journal.ts";
import { claimOwnership, releaseOwnership } from "./ownership.ts";
import { activate, cancelRun, finishActivation, recover, startRun } from "./run-lifecycle.ts";
import { sendSignal, type SignalDelivery } from "./signals.ts";
import { createWakeTimer, fireDueTimers } from "./timers.ts";
import {
  isTerminal,
  type Activation,
  type ActivationResult,
  type OpCommand,
  type OpResolution,
  type StartRunRequest,
  type StartRunResult,
} from "./types.ts";

/** Runs activations. The kernel calls `dispatch` after a run becomes pending (post-commit). */
export interface Executor {
  dispatch(run: RunRow): void;
  abort(runId: string): void;
}

export interface KernelOptions {
  store: Store;
  clock?: Clock;
  logger?: Logger;
}

export interface RunHistory {
  run: RunRow;
  ops: OpRow[];
  events: EventRow[];
  signals: SignalRow[];
}

export interface Kernel {
  /** Claims the database, recovers interrupted runs, dispatches pending ones and arms timers. */
  open(executor: Executor): void;
  startRun(req: StartRunRequest): Promise<StartRunResult>;
  activate(runId: string): Promise<Activation | null>;
  reportOp(runId: string, fence: number, cmd: OpCommand): Promise<OpResolution>;
  finishActivation(runId: string, fence: number, result: ActivationResult): Promise<void>;
  signal(runId: string, name: string, payload: string | null): Promise<SignalDelivery>;
  cancel(runId: string, reason?: string): Promise<RunRow>;
  getRun(runId: string): RunRow | null;
  history(runId: string): RunHistory | null;
  listRuns(filter?: { status?: string; name?: string; limit?: number }): RunRow[];
  /** Resolves with the run once it is completed, failed or cancelled. */
  waitForTerminal(runId: string, signal?: AbortSignal): Promise<RunRow>;
  /** Resolves when every submitted command is committed. */
  drain(): Promise<void>;
  close(): Promise<void>;
  readonly stats: GroupCommitStats;
}

export function createKernel(options: KernelOptions): Kernel {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger?.withTag("kernel");
  let executor: Executor | null = null;
  let closed = false;
  const terminalWaiters = new Map<string, Set<{ resolve: (run: RunRow) => void; reject: (error: unknown) => void }>>();

  const queue = createGroupCommitQueue(store, clock.now, (error) => log?.error("post-commit effect failed:", error));
  const wakeTimer = createWakeTimer(clock, () => void fireTimers());

  const ctx: KernelContext = {
    store,
    dispatch: (run) => executor?.dispatch(run),
    armTimer: (at) => wakeTimer.arm(at),
    notifyTerminal: (run) => {
      const waiters = terminalWaiters.get(run.id);
      if (!waiters) return;
      terminalWaiters.delete(run.id);
      for (const waiter of waiters) waiter.resolve(run);
    },
    abortActivation: (runId) => executor?.abort(runId),
  };

  async function fireTimers(): Promise<void> {
    if (closed) return;
    try {
      const { fired, nextAt } = await queue.submit((tx) => fireDueTimers(ctx, tx));
      if (fired > 0) log?.debug(`fired ${fired} timer(s)`);
      wakeTimer.arm(nextAt);
    } catch (error) {
      if (closed) return;
      log?.error("firing timers failed; retrying in 1s:", error);
      wakeTimer.arm(clock.now() + 1_000);
    }
  }

  const submit = <T>(fn: (tx: Parameters<Parameters<typeof queue.submit>[0]>[0]) => T) => {
    if (!executor) return Promise.reject(new VilanoError("internal", "the kernel is not open"));
    return queue.submit(fn);
  };

  return {
    stats: queue.stats,
    open(exec) {
      if (executor) throw new VilanoError("internal", "the kernel is already open");
      claimOwnership(store);
      executor = exec;
      const pending = queue.applyNow((tx) => recover(ctx, tx));
      for (const run of pending) exec.dispatch(run);
      wakeTimer.arm(store.nextWakeAt());
    },
    startRun: (req) => submit((tx) => startRun(ctx, tx, req)),
    activate: (runId) => submit((tx) => activate(ctx, tx, runId)),
    reportOp: (runId, fence, cmd) => submit((tx) => reportOp(ctx, tx, runId, fence, cmd)),
    finishActivation: (runId, fence, result) => submit((tx) => finishActivation(ctx, tx, runId, fence, result)),
    signal: (runId, name, payload) => submit((tx) => sendSignal(ctx, tx, runId, name, payload)),
    cancel: (runId, reason) => submit((tx) => cancelRun(ctx, tx, runId, reason)),
    getRun: (runId) => store.getRun(runId),
    history(runId) {
      const run = store.getRun(runId);
      if (!run) return null;
      return { run, ops: store.listOps(runId), events: store.listEvents(runId), signals: store.listSignals(runId) };
    },
    listRuns: (filter) => store.listRuns(filter),
    waitForTerminal(runId, signal) {
      const run = store.getRun(runId);
      if (!run) return Promise.reject(new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`));
      if (isTerminal(run.status)) return Promise.resolve(run);
      if (closed) return Promise.reject(new VilanoError("runtime_closed", "the runtime is closed"));
      return new Promise<RunRow>((resolve, reject) => {
        let waiters = terminalWaiters.get(runId);
        if (!waiters) terminalWaiters.set(runId, (waiters = new Set()));
        const waiter = {
          resolve: (finished: RunRow) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(finished);
          },
          reject,
        };
        const onAbort = () => {
          waiters!.delete(waiter);
          reject(signal!.reason);
        };
        waiters.add(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    },
    drain: () => queue.drain(),
    async close() {
      if (closed) return;
      closed = true;
      wakeTimer.stop();
      await queue.close();
      const error = new VilanoError("runtime_closed", "the runtime was closed while waiting for a run");
      for (const [, waiters] of terminalWaiters) for (const w of waiters) w.reject(error);
      terminalWaiters.clear();
      releaseOwnership(store);
    },
  };
}
