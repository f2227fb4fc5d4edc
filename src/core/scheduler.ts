/**
 * The scheduler: the kernel's executor. It owns the slots (how many activations run at once), the
 * queue of pending runs, the slots reserved for leases taken inside a transaction, aborts and
 * idleness; a runner does the running. A run whose code is not known yet is loaded through the
 * catalog first; one that cannot be had stays pending.
 */
import { isService, VilanoError, type Logger } from "../shared/index.ts";
import type { Activation, Executor, Kernel } from "../kernel/index.ts";
import type { RunRow } from "../store/index.ts";
import { hasCode, type Catalog } from "./catalog.ts";
import type { Runner } from "./runner.ts";

export interface Scheduler extends Executor {
  /** Refuses new work and aborts what runs. */
  close(): void;
  /** Resolves when no activation is running or queued. */
  idle(): Promise<void>;
}

interface Registered {
  controller: AbortController;
  /** The lease the activation holds, once known (a lease being taken has none yet). */
  fence: number | null;
  /** Leases up to this one were stopped before this activation's lease was known: if it is one of them, it stops too. */
  abortUpTo: number;
}

export function createScheduler(options: { kernel: Kernel; catalog: Catalog; runner: Runner; logger: Logger; maxConcurrent: number }): Scheduler {
  const { kernel, catalog, runner, maxConcurrent } = options;
  const log = options.logger.withTag("scheduler");
  const ready: string[] = [];
  const queued = new Set<string>();
  /** Every activation of a run that may be running (an old one may still be ending while a new one leases). */
  const controllers = new Map<string, Set<Registered>>();
  const missingWarned = new Set<string>();
  const idleWaiters: (() => void)[] = [];
  let active = 0;
  /** Slots promised to leases taken inside transactions not yet committed. */
  let reserved = 0;
  let closed = false;

  const known = (run: RunRow) => hasCode(catalog.current(run), run);
  /** After a worker crash a run waits a little before its next try (100 ms, 200 ms, …, at most 1 s). */
  const crashBackoff = (run: RunRow) => (run.crashes > 0 ? Math.min(1_000, 100 * 2 ** (run.crashes - 1)) : 0);

  const pump = () => {
    while (!closed && active + reserved < maxConcurrent && ready.length > 0) {
      const runId = ready.shift()!;
      queued.delete(runId);
      active++;
      void leaseAndRun(runId)
        .catch((error: unknown) => log.error(`run ${runId}: its activation failed:`, error))
        .finally(settleSlot);
    }
  };

  /** Leases a pending run through the kernel, then runs it. */
  async function leaseAndRun(runId: string): Promise<void> {
    // Registered before the lease is taken, so a cancel committed in the same batch reaches it.
    const entry = register(runId);
    let activation: Activation | null = null;
    try {
      activation = await kernel.activate(runId);
    } catch (error) {
      if (!closed) log.error(`could not activate run ${runId}:`, error);
    }
    if (activation) {
      entry.fence = activation.fence;
      // A recovery that undid this very lease may have been told before the lease came back here.
      if (activation.fence <= entry.abortUpTo) entry.controller.abort(new VilanoError("cancelled", `run ${runId}: lease ${activation.fence} was undone`));
    }
    try {
      if (activation && !entry.controller.signal.aborted) await runner.run(activation, entry.controller.signal);
    } finally {
      unregister(runId, entry);
    }
  }

  const register = (runId: string, fence: number | null = null) => {
    const entry: Registered = { controller: new AbortController(), fence, abortUpTo: -1 };
    let set = controllers.get(runId);
    if (!set) controllers.set(runId, (set = new Set()));
    set.add(entry);
    return entry;
  };
  // Only its own controller goes: another activation of the run (a re-dispatch) keeps its own.
  const unregister = (runId: string, entry: Registered) => {
    const set = controllers.get(runId);
    if (!set) return;
    set.delete(entry);
    if (set.size === 0) controllers.delete(runId);
  };

  const settleSlot = () => {
    active--;
    pump();
    // With several daemons on one database, a free slot with nothing queued claims pending runs.
    if (ready.length === 0 && !closed) kernel.lookForWork();
    if (active === 0 && ready.length === 0) for (const done of idleWaiters.splice(0)) done();
  };

  const enqueue = (run: RunRow) => {
    if (closed || queued.has(run.id)) return;
    queued.add(run.id);
    ready.push(run.id);
    pump();
  };

  return {
    dispatch(run: RunRow) {
      if (closed || queued.has(run.id)) return;
      if (!known(run)) {
        if (catalog.load) {
          // Load the run's code, then try again; a failure is logged by the catalog (and the run
          // is given back, for a daemon that has its code).
          void catalog.load(run).then((ok) => (ok && known(run) ? this.dispatch(run) : kernel.cannotRun(run)));
          return;
        }
        kernel.cannotRun(run);
        // Left pending, not failed: reopening the runtime with the definition resumes it.
        const label = `${isService(run) ? "service" : "workflow"} "${run.name}"`;
        if (!missingWarned.has(label)) {
          missingWarned.add(label);
          log.warn(`run ${run.id} is for ${label}, which this runtime does not have; it stays pending`);
        }
        return;
      }
      const backoff = crashBackoff(run);
      if (backoff > 0) {
        setTimeout(() => enqueue(run), backoff);
        return;
      }
      enqueue(run);
    },
    reserve(run) {
      if (closed || !known(run) || crashBackoff(run) > 0 || active + reserved >= maxConcurrent) return false;
      reserved++;
      return true;
    },
    release() {
      reserved--;
    },
    runLeased(activation) {
      reserved--;
      // Leased in the batch that committed while closing: it stays running in the database and is
      // recovered when the runtime opens again.
      if (closed) return;
      active++;
      // The slot was reserved when the lease was taken; the controller goes in before any await.
      const entry = register(activation.run.id, activation.fence);
      void runner
        .run(activation, entry.controller.signal)
        .catch((error: unknown) => log.error(`run ${activation.run.id}: its activation failed:`, error))
        .finally(() => {
          unregister(activation.run.id, entry);
          settleSlot();
        });
    },
    deliver(runId, opKey, outcome) {
      runner.deliver(runId, opKey, outcome);
    },
    runEnded(runId) {
      runner.forget?.(runId);
    },
    room: () => (closed ? 0 : maxConcurrent - active - reserved - ready.length),
    holds: (runId) => controllers.has(runId),

    abort(runId, upToFence) {
      for (const entry of controllers.get(runId) ?? []) {
        if (upToFence !== undefined && entry.fence === null) entry.abortUpTo = Math.max(entry.abortUpTo, upToFence);
        else if (upToFence === undefined || entry.fence! <= upToFence) entry.controller.abort(new VilanoError("cancelled", `run ${runId} was cancelled`));
      }
    },
    close() {
      closed = true;
      const reason = new VilanoError("runtime_closed", "the runtime is closing");
      for (const set of controllers.values()) for (const { controller } of set) controller.abort(reason);
      ready.length = 0;
      queued.clear();
    },
    idle() {
      if (active === 0 && ready.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
