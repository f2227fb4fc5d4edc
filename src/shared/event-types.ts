/**
 * The closed set of event types of a run's append-only timeline. In `shared/` so that the row
 * types of the store, the view model and the dashboard's timeline name them as a union. The
 * events that tell of one kind of op are declared with that kind (`events` in `OP_KINDS`,
 * `op-commands.ts`); the ones here tell of runs, instances, messages and turns.
 */
import { OP_KINDS, type OpEventType } from "./op-commands.ts";

/** Events of runs, service instances, their messages and turns, and of what ends runs. */
const RUN_EVENT_TYPE = {
  run_started: "run_started",
  run_recovered: "run_recovered",
  run_waiting: "run_waiting",
  run_resumed: "run_resumed",
  run_completed: "run_completed",
  run_failed: "run_failed",
  run_cancelled: "run_cancelled",
  signal_received: "signal_received",
  instance_created: "instance_created",
  message_enqueued: "message_enqueued",
  message_rejected: "message_rejected",
  ask_replied: "ask_replied",
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
  /** A run was cancelled because the run that started it was. */
  cancelled_with_parent: "cancelled_with_parent",
  /** A related run ended: an exit event is queued for this run. */
  exit_received: "exit_received",
  /** A linked run ended abnormally and this run (not trapping exits) was ended with it. */
  linked_exit: "linked_exit",
  /** A member ended abnormally (or was restarted with it) and its supervisor started a new run for it. */
  member_restarted: "member_restarted",
  /** The group's restart budget ran out within its window: the owner fails with supervision_exhausted. */
  supervision_exhausted: "supervision_exhausted",
} as const;

export type EventType = keyof typeof RUN_EVENT_TYPE | OpEventType;

/** Every event type by name (`EVENT_TYPE.run_started`), for code that writes one. */
export const EVENT_TYPE = Object.fromEntries(
  [...Object.keys(RUN_EVENT_TYPE), ...Object.values(OP_KINDS).flatMap((kind) => kind.events)].map((type) => [type, type]),
) as { readonly [E in EventType]: E };
