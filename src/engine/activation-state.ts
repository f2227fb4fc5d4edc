/**
 * The state one activation carries while user code runs.
 *
 * A durable wait (sleep, signal, ask reply, retry backoff) hands the code a promise that never
 * settles: nothing is thrown, so code that catches errors cannot swallow a suspension, and
 * `Promise.race` between a wait and another op resolves with whichever outcome exists. The
 * activation counts as suspended once the code is blocked: no op in flight, no recorded outcome
 * held back, and at least one wait open.
 *
 * Waits that name their op (`waitFor`) can also be settled when a parked execution is resumed by
 * the run's next activation (live-executions.ts); a plain `wait()` cannot, and keeps the execution
 * from being parked.
 *
 * Lost leases, nondeterminism and the end of a service turn (defer, reject) are different: they
 * set a flag and unwind the code with an internal `Suspension`; every later durable call throws it
 * too, and the flag decides the result whatever the code returns.
 */
import {
  errorCodeOf,
  isUnsentReport,
  toFailureBody,
  type ActivationResult,
  type FailureBody,
  type LiveOutcome,
  type OpCommand,
  type OpResolution,
} from "../shared/index.ts";
import type { ActivationHost } from "./host.ts";
import { Suspension } from "./suspension.ts";

export interface ActivationState {
  readonly aborted: boolean;
  readonly fatal: FailureBody | null;
  /** Set when a service turn ended itself (defer, reject). */
  readonly turnEnd: ActivationResult | null;
  /** How many durable waits are open in this activation. */
  readonly waits: number;
  /** Throws if the activation must stop (lease lost, run failed, turn ended). */
  guard(): void;
  /** A promise that never settles: the code waits for something a later activation delivers. */
  wait(): Promise<never>;
  /**
   * Like wait(), but settled by `opKey`'s outcome: delivered live in this activation when `live`
   * (an ask's reply, a child's end), or handed over when a parked execution resumes.
   */
  waitFor(opKey: string, live?: boolean): Promise<LiveOutcome>;
  /** An outcome committed while the code is live; ignored once the activation has ended. */
  deliver(opKey: string, outcome: LiveOutcome): void;
  /** The activation's result is decided: no more live deliveries. */
  end(): void;
  /** Counts up each time the state is reopened for another activation. */
  readonly epoch: number;
  /** True when every open wait names its op: the execution can be parked and resumed. */
  parkable(): boolean;
  /** The ops the code is blocked on. */
  openWaits(): string[];
  /** Starts another activation on this state (a parked execution resumed). */
  reopen(): void;
  /** Settles an open wait with the outcome history recorded for it (a resumed execution). */
  resumeWait(opKey: string, outcome: LiveOutcome): void;
  /** Ends the activation with a failure of the run that user code cannot catch (nondeterminism). */
  failRun(error: FailureBody): never;
  endTurn(result: ActivationResult): never;
  report(cmd: OpCommand): Promise<OpResolution>;
  /**
   * Like report, but a report the host refused before it left (its value over the cap, or one that
   * could not be sent) comes back as `{ refused }` instead of ending the run: a step's result that
   * cannot be recorded fails that step's attempt.
   */
  reportOrRefused(cmd: OpCommand): Promise<OpResolution | { refused: FailureBody }>;
  /** A post the host refuses (its value over the cap) ends the run, as the kernel would. */
  post(cmd: OpCommand): void;
  track<T>(work: Promise<T>): Promise<T>;
  /** Something changed that might leave the code blocked: check soon. */
  poke(): void;
  /** Resolves when the code is blocked on waits, or must stop and has nothing in flight. */
  blocked(): Promise<void>;
  /** Waits until no op is in flight. */
  settle(): Promise<void>;
}

const LIVE_GRACE_ROUNDS = 3;

// Reports that fail for these reasons mean this activation no longer owns the run. A failed commit
// (full disk) is one: the kernel runs the run again once it can write, so it must not fail it here.
const LEASE_LOST = new Set(["stale_lease", "runtime_closed", "storage_failed", "database_unavailable"]);

export function createActivationState(host: ActivationHost, schedulerIdle: () => boolean = () => true): ActivationState {
  let aborted = false;
  let fatal: FailureBody | null = null;
  let turnEnd: ActivationResult | null = null;
  let waits = 0;
  /** Open waits that no outcome can settle but a replay (they keep the execution from parking). */
  let plainWaits = 0;
  let ended = false;
  let epoch = 0;
  const liveWaits = new Map<string, (outcome: LiveOutcome) => void>();
  /** Open waits settled only by a resume (a sleep, a signal). */
  const laterWaits = new Map<string, (outcome: LiveOutcome) => void>();
  let checkScheduled = false;
  const inflight = new Set<Promise<unknown>>();
  let blocked = Promise.withResolvers<void>();

  const stop = (reason: string): never => {
    throw new Suspension(reason);
  };
  /** A report the kernel (or the host) refused: the lease is gone, or the run fails with the error. */
  const refused = (error: unknown): never => {
    if (LEASE_LOST.has(errorCodeOf(error) ?? "")) aborted = true;
    else fatal ??= { ...toFailureBody(error), retryable: false };
    state.poke();
    return stop("report refused");
  };
  const mustStop = () => aborted || fatal !== null || turnEnd !== null;

  // setImmediate runs after every pending microtask, so woken code has asked for its next ops.
  // When every open wait is an ask whose reply can be delivered live, the reply is often one
  // commit away (the service's turn was leased with the ask): give it that long before parking.
  // In this process that is a few event-loop rounds; through a worker pool the reply crosses two
  // processes, so the host can ask for a time instead (a delivery pokes the check at once).
  let liveGrace = LIVE_GRACE_ROUNDS;
  let graceUntil: number | null = null;
  let graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** True while the code may still wait for a live reply; arranges to be checked again. */
  const stillInGrace = (): boolean => {
    if (host.liveGraceMs === undefined) {
      if (liveGrace-- <= 0) return false;
      state.poke();
      return true;
    }
    const now = Date.now();
    graceUntil ??= now + host.liveGraceMs;
    if (now >= graceUntil) return false;
    graceTimer ??= setTimeout(() => {
      graceTimer = null;
      state.poke();
    }, graceUntil - now);
    return true;
  };
  const check = () => {
    checkScheduled = false;
    if (inflight.size > 0) return;
    if (mustStop()) return blocked.resolve();
    if (waits === 0 || !schedulerIdle()) return;
    if (liveWaits.size === waits && stillInGrace()) return;
    if (graceTimer) clearTimeout(graceTimer);
    graceTimer = null;
    blocked.resolve();
  };

  const state: ActivationState = {
    get aborted() {
      return aborted;
    },
    get fatal() {
      return fatal;
    },
    get turnEnd() {
      return turnEnd;
    },
    get waits() {
      return waits;
    },
    guard() {
      if (!aborted && host.signal.aborted) aborted = true;
      if (aborted) stop("lease lost");
      if (fatal) stop("run failed");
      if (turnEnd) stop("turn ended");
    },
    wait() {
      waits++;
      plainWaits++;
      state.poke();
      // A fresh promise each time: a shared one would keep every abandoned continuation alive.
      return new Promise<never>(() => {});
    },
    waitFor(opKey, live = true) {
      waits++;
      state.poke();
      return new Promise<LiveOutcome>((resolve) => (live ? liveWaits : laterWaits).set(opKey, resolve));
    },
    deliver(opKey, outcome) {
      const resolve = liveWaits.get(opKey);
      if (ended || !resolve) return;
      liveWaits.delete(opKey);
      waits--;
      // The next ask gets a grace of its own.
      graceUntil = null;
      resolve(outcome);
      state.poke();
    },
    end() {
      // The open waits stay registered: a parked execution is resumed through them.
      ended = true;
      if (graceTimer) clearTimeout(graceTimer);
      graceTimer = null;
    },
    get epoch() {
      return epoch;
    },
    parkable: () => plainWaits === 0 && !mustStop() && inflight.size === 0,
    openWaits: () => [...liveWaits.keys(), ...laterWaits.keys()],
    reopen() {
      epoch++;
      ended = false;
      listenForAbort();
      blocked = Promise.withResolvers<void>();
      liveGrace = LIVE_GRACE_ROUNDS;
      graceUntil = null;
      checkScheduled = false;
    },
    resumeWait(opKey, outcome) {
      const resolve = liveWaits.get(opKey) ?? laterWaits.get(opKey);
      if (!resolve) return;
      liveWaits.delete(opKey);
      laterWaits.delete(opKey);
      waits--;
      resolve(outcome);
      state.poke();
    },
    failRun(error) {
      fatal ??= error;
      state.poke();
      return stop("run failed");
    },
    endTurn(result) {
      turnEnd ??= result;
      state.poke();
      return stop(`turn ended (${result.type})`);
    },
    async report(cmd) {
      try {
        return await host.report(cmd);
      } catch (error) {
        return refused(error);
      }
    },
    async reportOrRefused(cmd) {
      try {
        return await host.report(cmd);
      } catch (error) {
        if (isUnsentReport(error)) return { refused: toFailureBody(error) };
        return refused(error);
      }
    },
    post(cmd) {
      try {
        host.post(cmd);
      } catch (error) {
        fatal ??= { ...toFailureBody(error), retryable: false };
        state.poke();
      }
    },
    track(work) {
      inflight.add(work);
      const remove = () => {
        inflight.delete(work);
        state.poke();
      };
      work.then(remove, remove);
      return work;
    },
    poke() {
      if (checkScheduled) return;
      checkScheduled = true;
      setImmediate(check);
    },
    blocked: () => blocked.promise,
    async settle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
  };
  // The host may be switched to a later activation's (a resumed execution): listen to each one's signal.
  const listenForAbort = () =>
    host.signal.addEventListener(
      "abort",
      () => {
        aborted = true;
        state.poke();
      },
      { once: true },
    );
  listenForAbort();
  return state;
}
