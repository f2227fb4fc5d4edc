/**
 * The closed set of event types of a run's append-only timeline. In `shared/` so that the row
 * types of the store, the view model and the dashboard's timeline name them as a union.
 */

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
