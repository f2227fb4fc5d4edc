/**
 * What the kernel hands ready runs to. Its own file so that the kernel and its neighbours
 * (membership, cluster wiring) name it without importing each other; `core/scheduler.ts` is the
 * one implementation, so every member is required.
 */
import type { LiveOutcome } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";
import type { Activation } from "./types.ts";

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
  deliver(runId: string, opKey: string, outcome: LiveOutcome): void;
  /** The run has ended: what is kept in memory for its next activation can go. */
  runEnded(runId: string): void;
  /** How many more runs it could take on now (slots neither running, reserved nor queued). */
  room(): number;
  /** Whether an activation of the run may be running here. */
  holds(runId: string): boolean;
}
