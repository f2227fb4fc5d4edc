/**
 * The closed sets of statuses: of runs, service instances, ops and messages. Typed unions, so a
 * status the kernel does not know cannot be written, and every view switches over the same set.
 */

/** What a workflow run is doing. */
export const RUN_STATUS = {
  /** Ready to be activated: new, woken, or recovered after a crash. */
  pending: "pending",
  /** An activation holds the run's lease and is executing its code. */
  running: "running",
  /** Suspended on a durable wait (timer, signal, child, ask reply, retry backoff). */
  waiting: "waiting",
  /** Finished with an output. */
  completed: "completed",
  /** Finished with an error. */
  failed: "failed",
  /** Stopped on request (or by a cancelled parent). */
  cancelled: "cancelled",
} as const;
export type RunStatus = (typeof RUN_STATUS)[keyof typeof RUN_STATUS];

/** What a service instance is doing (instances are runs of kind `service`). */
export const SERVICE_STATUS = {
  /** Nothing to do; no memory held ("passivated"). */
  idle: "idle",
  /** Has ready mail: waiting for a turn to be activated. */
  pending: "pending",
  /** A turn holds the lease and is running. */
  active: "active",
  /** The current turn is suspended on a durable wait; later mail waits behind it. */
  waiting: "waiting",
  /** Stopped for good: backlog failed, new mail rejected. */
  stopped: "stopped",
} as const;
export type ServiceStatus = (typeof SERVICE_STATUS)[keyof typeof SERVICE_STATUS];

/** The status column of a run row: a workflow run's or a service instance's. */
export type AnyRunStatus = RunStatus | ServiceStatus;

export const MESSAGE_STATUS = {
  queued: "queued",
  deferred: "deferred",
  active: "active",
  done: "done",
  failed: "failed",
  cancelled: "cancelled",
} as const;
export type MessageStatus = (typeof MESSAGE_STATUS)[keyof typeof MESSAGE_STATUS];

/** The state of one durable op in the journal. */
export const OP_STATUS = {
  /** Recorded with a result; replay returns it. */
  completed: "completed",
  /** Failed for good; replay rethrows the stored error. */
  failed: "failed",
  /** A wait not yet satisfied (timer, signal, ask reply, child result). */
  waiting: "waiting",
  /** A failed attempt whose retry timer has not fired. */
  retry_wait: "retry_wait",
  /** The retry timer fired: the next activation runs the next attempt. */
  retry_ready: "retry_ready",
  /** Closed because the run (or turn) ended while it was open. */
  cancelled: "cancelled",
} as const;
export type OpStatus = (typeof OP_STATUS)[keyof typeof OP_STATUS];

/** A signal sent to a workflow run. */
export const SIGNAL_STATUS = {
  /** No wait took it yet: the next wait for its name consumes it. */
  buffered: "buffered",
  /** Taken by a wait (`consumedBy` names its op). */
  consumed: "consumed",
} as const;
export type SignalStatus = (typeof SIGNAL_STATUS)[keyof typeof SIGNAL_STATUS];

/** Op statuses in which the op is still open (a wait or a retry not yet run). */
export const OPEN_OP_STATUSES: readonly OpStatus[] = [OP_STATUS.waiting, OP_STATUS.retry_wait, OP_STATUS.retry_ready];

export const TERMINAL_STATUSES: readonly AnyRunStatus[] = ["completed", "failed", "cancelled", "stopped"];
/** Statuses in which an activation holds the run's lease. */
export const LEASED_STATUSES: readonly AnyRunStatus[] = ["running", "active"];
export const isTerminal = (status: AnyRunStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(status);
export const isLeased = (status: string): boolean => (LEASED_STATUSES as readonly string[]).includes(status);
/** An op whose outcome is recorded for good (replay returns or rethrows it). */
export const isSettledOp = (status: string): boolean => status === OP_STATUS.completed || status === OP_STATUS.failed;
