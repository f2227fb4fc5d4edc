/**
 * The kernel's closed sets and the plain-data protocol between an activation (the engine running
 * user code) and the kernel. Everything here is JSON-able so it can cross a process boundary.
 */
import type { TurnInput } from "../shared/index.ts";
import type { OpRow, RunRow } from "../store/index.ts";

export {
  RUN_STATUS,
  SERVICE_STATUS,
  MESSAGE_STATUS,
  OP_STATUS,
  TERMINAL_STATUSES,
  LEASED_STATUSES,
  isTerminal,
  isLeased,
  isSettledOp,
  type RunStatus,
  type ServiceStatus,
  type AnyRunStatus,
  type MessageStatus,
  type OpStatus,
} from "../shared/index.ts";

export const OP_KIND = {
  step: "step",
  exec: "exec",
  sleep: "sleep",
  signal: "signal",
  log: "log",
  now: "now",
  random: "random",
  mailbox: "mailbox",
  connect: "connect",
  send: "send",
  ask: "ask",
  service_status: "service_status",
  /** Start (or reuse) a child workflow run. */
  spawn: "spawn",
  /** Wait for a child run's end: its output, or its error. */
  child_result: "child_result",
  child_status: "child_status",
  child_signal: "child_signal",
  monitor: "monitor",
  link: "link",
  trap_exit: "trap_exit",
  /** Wait for the next exit event (ctx.nextExit). */
  exit_wait: "exit_wait",
  supervise: "supervise",
  member_spawn: "member_spawn",
  member_result: "member_result",
  member_run: "member_run",
  members: "members",
  subscribe: "subscribe",
  unsubscribe: "unsubscribe",
  publish: "publish",
} as const;
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
  instance_created: "instance_created",
  service_connected: "service_connected",
  message_enqueued: "message_enqueued",
  message_rejected: "message_rejected",
  message_sent: "message_sent",
  ask_sent: "ask_sent",
  ask_replied: "ask_replied",
  ask_timed_out: "ask_timed_out",
  turn_started: "turn_started",
  turn_completed: "turn_completed",
  turn_failed: "turn_failed",
  /** The asker of the message a turn served stopped waiting (cancelled, timed out, ended): the turn was cancelled with it. */
  turn_cancelled: "turn_cancelled",
  message_deferred: "message_deferred",
  message_failed: "message_failed",
  message_cancelled: "message_cancelled",
  instance_idle: "instance_idle",
  instance_stopped: "instance_stopped",
  /** The activation holding the lease is gone without a result (worker killed or not answering); the run goes again. */
  activation_lost: "activation_lost",
  /** The worker running the activation died; after 3 in a row the run (or the turn's message) fails with `worker_crashed`. */
  worker_crashed: "worker_crashed",
  exec_completed: "exec_completed",
  exec_attempt_failed: "exec_attempt_failed",
  exec_failed: "exec_failed",
  /** A parent started a child run (or found the one its key names). */
  child_started: "child_started",
  /** A wait on a child's result ended with the child. */
  child_ended: "child_ended",
  child_signalled: "child_signalled",
  /** A run was cancelled because the run that started it was. */
  cancelled_with_parent: "cancelled_with_parent",
  /** This run now monitors or links another (`targetId`). */
  relationship_added: "relationship_added",
  /** A related run ended: an exit event is queued for this run. */
  exit_received: "exit_received",
  /** ctx.nextExit took an exit event. */
  exit_consumed: "exit_consumed",
  /** ctx.nextExit found no exit event queued and waits for one. */
  exit_wait_started: "exit_wait_started",
  exit_wait_timed_out: "exit_wait_timed_out",
  /** A linked run ended abnormally and this run (not trapping exits) was ended with it. */
  linked_exit: "linked_exit",
  traps_exits: "traps_exits",
  supervisor_started: "supervisor_started",
  member_started: "member_started",
  /** A member ended abnormally (or was restarted with it) and its supervisor started a new run for it. */
  member_restarted: "member_restarted",
  /** The group's restart budget ran out within its window: the owner fails with supervision_exhausted. */
  supervision_exhausted: "supervision_exhausted",
  subscribed: "subscribed",
  unsubscribed: "unsubscribed",
  /** A publish op delivered to the topic's subscribers (counts of matched, enqueued and rejected). */
  published: "published",
} as const;
export type EventType = (typeof EVENT_TYPE)[keyof typeof EVENT_TYPE];

export type { OpCommand, OpResolution, ActivationResult, HistoryOp, TurnInput, MailboxView } from "../shared/index.ts";

/** A leased activation: the run, its fencing token and its op history (a turn's: its message's ops). */
export interface Activation {
  run: RunRow;
  fence: number;
  ops: OpRow[];
  /** Present for a service turn. */
  turn?: TurnInput;
}

export interface StartRunRequest {
  id?: string;
  /** The project the run belongs to ("" in an embedded runtime) and the snapshot it is pinned to. */
  project?: string;
  snapshotId?: string | null;
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
