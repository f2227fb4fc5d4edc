/**
 * What kernel commands need besides the transaction: the store and the post-commit hooks the
 * kernel wires to the executor, the wake-up timer and result waiters.
 */
import type { MessageRow, Store, RunRow } from "../store/index.ts";
import { runNotFound, VilanoError, type LiveOutcome } from "../shared/index.ts";
import type { Tx } from "./group-commit.ts";
import { isLeased, type Activation, type EventType } from "./types.ts";

export interface KernelContext {
  store: Store;
  /** The largest value recorded, in bytes (VILANO_MAX_VALUE_BYTES). */
  maxValueBytes: number;
  /** A run became pending: hand it to the executor, which leases it when it has room. */
  dispatch(run: RunRow): void;
  /** Inside a command: may this run be leased now, in this transaction, for the executor? */
  reserve(run: RunRow): boolean;
  /** A reservation whose lease did not happen (nothing to run, or rolled back). */
  release(run: RunRow): void;
  /** After commit: run an activation leased in the committed transaction. */
  runLeased(activation: Activation): void;
  /** A durable timer is due at `at`: make sure the wake-up fires no later (a sleep: its lead earlier). */
  armTimer(at: number, kind?: "sleep"): void;
  /** A run reached a terminal status. */
  notifyTerminal(run: RunRow): void;
  /** The run's current activation lost its lease (cancelled): abort its steps. */
  /** `upToFence`: only activations holding that lease or an older one (a newer lease may be starting). */
  abortActivation(runId: string, upToFence?: number): void;
  /** A message without an asking run (an external ask) finished: wake its waiter. */
  notifyMessage(message: MessageRow): void;
  /** After commit: an op of `runId` got its outcome; a live activation may take it at once. */
  deliverLive(runId: string, opKey: string, outcome: LiveOutcome): void;
  /** The run's timeline grew in this transaction (the change feed tells listeners after commit). */
  touched(runId: string): void;
  /** What the other daemons sharing the database hear when this transaction commits (see kernel.ts). */
  tell: {
    ended(runId: string): void;
    /** The run's lease was undone without ending it (a cancelled turn): a daemon running it under the old lease stops that code. */
    aborted(runId: string): void;
    messageDone(messageId: number): void;
    /** A run became pending without being leased: another daemon with room may claim it. */
    pending(): void;
  };
}

/** Not an async function: it hands back the store's own promise (one step records several events). */
export function appendEvent(k: KernelContext, tx: Tx, runId: string, type: EventType, body?: Record<string, unknown>): Promise<unknown> {
  k.touched(runId); // heard only after commit, so noting it before the write lands changes nothing
  return k.store.appendEvent(runId, type, body === undefined ? null : JSON.stringify(body), tx.now);
}

/**
 * Whether an outcome settled now goes unseen by the run's code: an activation of it is running,
 * and sleeps, signals and timeouts are not handed to running code (it sees them on its next
 * activation). Such an outcome is numbered for replay only when the run is next leased, after
 * everything that activation did see — a replay then goes the way the code went.
 */
export async function unseenByRunningCode(k: KernelContext, runId: string): Promise<boolean> {
  const run = await k.store.getRun(runId);
  return run !== null && isLeased(run.status);
}

/**
 * Whether another daemon sharing the database holds the run's lease: an outcome settled here cannot
 * be handed to its code live, so it goes unseen, as above, and the run goes again after its
 * activation suspends (`wake_pending`).
 */
export async function leasedElsewhere(k: KernelContext, runId: string): Promise<boolean> {
  const me = k.store.cluster?.daemonId;
  if (me === undefined) return false;
  const run = await k.store.getRun(runId);
  return run !== null && isLeased(run.status) && run.owner !== me;
}

export async function requireRun(k: KernelContext, runId: string): Promise<RunRow> {
  const run = await k.store.getRun(runId);
  if (!run) throw runNotFound(runId);
  return run;
}

/**
 * Checks that a report comes from the activation that holds the run's current lease. A lease lasts
 * until the run is leased again: a run marked waiting still accepts its last activation's reports
 * (code that settled after it looked blocked), until a wake-up leases it anew.
 */
export async function requireLease(k: KernelContext, runId: string, fence: number): Promise<RunRow> {
  const run = await k.store.getRun(runId);
  if (!run) throw runNotFound(runId);
  if (!(isLeased(run.status) || run.status === "waiting") || run.leaseFence !== fence) {
    throw new VilanoError(
      "stale_lease",
      `run ${runId}: report from lease ${fence} dropped (run is ${run.status}, current lease ${run.leaseFence})`,
      { details: { runId, fence, currentFence: run.leaseFence, status: run.status } },
    );
  }
  return run;
}

