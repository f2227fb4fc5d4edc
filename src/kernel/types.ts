/**
 * The kernel's closed sets and the plain-data protocol between an activation (the engine running
 * user code) and the kernel. Everything here is JSON-able so it can cross a process boundary.
 */
import type { OpRow, RunRow } from "../store/index.ts";

/** What a run is doing. */
export const RUN_STATUS = {
  /** Ready to be activated: new, woken, or recovered after a crash. */
  pending: "pending",
  /** An activation holds the run's lease and is executing its code. */
  running: "running",
  /** Suspended on a durable wait (timer, signal, retry backoff). */
  waiting: "waiting",
  /** Finished with an output. */
  completed: "completed",
  /** Finished with an error. */
  failed: "failed",
  /** Stopped on request. */
  cancelled: "cancelled",
} as const;
export type RunStatus = (typeof RUN_STATUS)[keyof typeof RUN_STATUS];
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];
export const isTerminal = (status: string): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** The state of one durable op in the journal. */
export const OP_STATUS = {
  /** Recorded with a result; replay returns it. */
  completed: "completed",
  /** Failed for good; replay rethrows the stored error. */
  failed: "failed",
  /** A timer or signal wait not yet satisfied. */
  waiting: "waiting",
  /** A failed attempt whose retry timer has not fired. */
  retry_wait: "retry_wait",
  /** The retry timer fired: the next activation runs the next attempt. */
  retry_ready: "retry_ready",
  /** Closed because the run ended while it was open. */
  cancelled: "cancelled",
} as const;
export type OpStatus = (typeof OP_STATUS)[keyof typeof OP_STATUS];

export const OP_KIND = { step: "step", sleep: "sleep", signal: "signal", log: "log", now: "now", random: "random" } as const;
export type OpKind = (typeof OP_KIND)[keyof typeof OP_KIND];

/** Event types of the append-only timeline. */
export const EVENT_TYPE = {
  run_started: "run_started",
  run_recovered: "run_recovered",
  run_waiting: "run_waiting",
  run_resumed: "run_resumed",
  run_completed: "run_completed",
  run_failed: "run_failed",
  run_cancelled: "run_cancelled",
  step_completed: "step_completed",
  step_attempt_failed: "step_attempt_failed",
  retry_scheduled: "retry_scheduled",
  step_failed: "step_failed",
  timer_scheduled: "timer_scheduled",
  timer_fired: "timer_fired",
  signal_received: "signal_received",
  signal_wait_started: "signal_wait_started",
  signal_consumed: "signal_consumed",
  signal_timed_out: "signal_timed_out",
  log: "log",
  value_recorded: "value_recorded",
} as const;
export type EventType = (typeof EVENT_TYPE)[keyof typeof EVENT_TYPE];

export type { OpCommand, OpResolution, ActivationResult, HistoryOp } from "../shared/index.ts";

/** A leased activation: the run, its fencing token and its whole op history. */
export interface Activation {
  run: RunRow;
  fence: number;
  ops: OpRow[];
}

export interface StartRunRequest {
  id?: string;
  kind?: string;
  name: string;
  /** JSON text of the input, or null for none. */
  input: string | null;
  parentId?: string | null;
}

export interface StartRunResult {
  run: RunRow;
  /** False when a run with this id already existed and was returned instead. */
  created: boolean;
}
