/**
 * The activation protocol: plain, JSON-able data exchanged between the engine (running user code,
 * in-process or in a worker) and the kernel. JSON values travel as JSON text.
 */
import type { FailureBody } from "./failure.ts";
import type { ResolvedRetryPolicy } from "./retry-policy.ts";
import type { OpKind } from "./op-commands.ts";
import type { OpStatus } from "./status.ts";

/** One recorded op, as the engine reads it from history. */
export interface HistoryOp {
  opKey: string;
  seq: number;
  kind: OpKind;
  name: string;
  status: OpStatus;
  attempt: number;
  result: string | null;
  error: string | null;
  /** Delivery order of the outcome in the run (completed/failed ops); replay follows it. */
  resolvedSeq: number | null;
}

/** Ops that run user work with attempts and retries: in-process steps and subprocesses. */
export type StepLikeKind = "step" | "exec";

/** The kernel's answer to an op command, sent only after it is committed. */
export type OpResolution =
  | { outcome: "recorded" }
  | { outcome: "failed"; error: FailureBody }
  | { outcome: "retry"; delayMs: number; wakeAt: number }
  | { outcome: "scheduled"; wakeAt: number }
  | { outcome: "signal"; payload: string | null }
  | { outcome: "waiting" }
  /** A recorded value (connect, send, service status), as JSON text. */
  | { outcome: "value"; value: string }
  /** A wait that was satisfied at once (a child that had already completed): its result. */
  | { outcome: "completed"; result: string | null };

/** An op outcome delivered to a live activation right after it was committed (asks only, today). */
export type LiveOutcome = { status: "completed"; result: string | null } | { status: "failed"; error: FailureBody };

/** How an activation ended. `aborted` means its lease was lost and it reports nothing. */
export type ActivationResult =
  | { type: "completed"; output: string | null }
  | { type: "failed"; error: FailureBody }
  | { type: "suspended" }
  | { type: "aborted" }
  /**
   * A service turn finished its message; `state` is present only when the turn set it, and
   * `subscriptions` when it subscribed or unsubscribed (the kernel applies those ops as it commits).
   */
  | { type: "turn_completed"; state?: string | null; reply: string | null; stop: boolean; subscriptions?: true }
  /** A service turn failed; the kernel applies the service's retry policy. */
  | { type: "turn_failed"; error: FailureBody; retry: ResolvedRetryPolicy }
  /** The turn put its message back with ctx.defer(). */
  | { type: "deferred"; delayMs: number; reason?: string }
  /** The turn failed its message with ctx.reject(): no retry. */
  | { type: "rejected"; error: FailureBody };

/** What a service turn sees of its inbox (as of the start of the turn). */
export interface MailboxView {
  current: { id: number; kind: "send" | "ask" | "signal"; name: string; attempt: number; enqueuedAt: number };
  queued: {
    total: number;
    ready: number;
    deferred: number;
    asks: number;
    sends: number;
    signals: number;
    oldestAt?: number;
    nextWakeAt?: number;
  };
}

/** The extra input of a service turn's activation. */
export interface TurnInput {
  /** Prefix of every op key in this turn (message and attempt). */
  scope: string;
  message: { id: number; kind: "send" | "ask" | "signal"; name: string; payload: string | null; attempt: number };
  /** The instance's state as JSON text, or null when it has none yet (init runs). */
  state: string | null;
  keyInput: string | null;
  mailbox: MailboxView;
}

/** How the suspended executions a process keeps (engine/live-executions.ts) have fared. */
export interface LiveExecutionStats {
  /** Executions parked so far. */
  parked: number;
  /** Activations that resumed a parked execution instead of replaying. */
  resumed: number;
  /** Parked executions evicted for room (their runs replay). */
  evicted: number;
  /** Parked executions found out of date by the next activation (it replayed instead). */
  stale: number;
}
