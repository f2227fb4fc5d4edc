/**
 * What an activation asks the kernel to record: one command shape per op kind, as a valibot schema
 * (checked when a worker's report arrives) from which the TypeScript type is derived. The kernel's
 * handling of each kind lives in `kernel/ops/<kind>.ts`.
 */
import * as v from "valibot";
import { Count, FailureBodySchema, Identifier, Json, Millis, RetryPolicySchema, tagged } from "./wire.ts";

/** Identity of a requested op, present on every op command. */
const Identity = {
  opKey: Identifier,
  /** Position of the op in the activation's call order; used to detect reordering. */
  seq: Count,
  name: Identifier,
};
/** Ops that run user work with attempts and retries: in-process steps and subprocesses. */
const StepLike = v.optional(v.picklist(["step", "exec"]));

export const OP_COMMAND_SCHEMAS = {
  /** A step's (or exec's) attempt succeeded; `meta` is what the op records besides its result (exec: argv, env names, captures). */
  step_completed: v.object({ ...Identity, type: v.literal("step_completed"), attempt: Count, result: Json, kind: StepLike, meta: v.optional(v.string()) }),
  step_failed: v.object({
    ...Identity,
    type: v.literal("step_failed"),
    attempt: Count,
    error: FailureBodySchema,
    retry: RetryPolicySchema,
    kind: StepLike,
    meta: v.optional(v.string()),
  }),
  /** A durable timer; `calledAt` is when the code asked for it (its clock), the start of the duration. */
  sleep: v.object({ ...Identity, type: v.literal("sleep"), durationMs: Millis, calledAt: v.optional(Millis) }),
  wait_signal: v.object({ ...Identity, type: v.literal("wait_signal"), timeoutMs: v.nullable(Millis) }),
  /** A value known at call time (log line, clock, random number, mailbox snapshot). */
  record: v.object({ ...Identity, type: v.literal("record"), kind: v.picklist(["log", "now", "random", "mailbox"]), value: v.string() }),
  /** Create-or-get a service instance; `name` is the service name. */
  connect: v.object({ ...Identity, type: v.literal("connect"), key: Identifier, keyInput: v.string(), mustExist: v.boolean() }),
  /** Enqueue a send or signal (`messageKind`) to an instance; `name` is `<service>.<handler>`. */
  send: v.object({
    ...Identity,
    type: v.literal("send"),
    messageKind: v.picklist(["send", "signal"]),
    serviceRunId: Identifier,
    handler: Identifier,
    payload: Json,
    maxQueued: v.nullable(Count),
  }),
  /** Enqueue an ask and wait for its reply. */
  ask: v.object({
    ...Identity,
    type: v.literal("ask"),
    serviceRunId: Identifier,
    handler: Identifier,
    payload: Json,
    maxQueued: v.nullable(Count),
    timeoutMs: v.nullable(Millis),
  }),
  /** Read an instance's status (recorded, so replay sees the same answer). */
  service_status: v.object({ ...Identity, type: v.literal("service_status"), serviceRunId: Identifier }),
  /** Start a child workflow run (`name` is the workflow) under a deterministic id, or find it. */
  spawn: v.object({ ...Identity, type: v.literal("spawn"), childRunId: Identifier, input: Json }),
  /** Wait for a child run to end: its output, or its error. */
  wait_child: v.object({ ...Identity, type: v.literal("wait_child"), childRunId: Identifier }),
  /** Read a child run's status (recorded). */
  child_status: v.object({ ...Identity, type: v.literal("child_status"), childRunId: Identifier }),
  /** Send a run signal (`name`) to a child run of `workflow`. */
  child_signal: v.object({ ...Identity, type: v.literal("child_signal"), childRunId: Identifier, workflow: Identifier, payload: Json }),
  /**
   * Monitor or link another run (`name` is its id). A link is made in both directions; `propagate`
   * says whether a normal completion is reported too (`all`) or only failures (`abnormal`).
   */
  relate: v.object({
    ...Identity,
    type: v.literal("relate"),
    relationship: v.picklist(["monitor", "link"]),
    targetRunId: Identifier,
    propagate: v.picklist(["abnormal", "all"]),
  }),
  /** Trap exits (or stop trapping): linked ends arrive as exit events instead of ending this run. */
  trap_exit: v.object({ ...Identity, type: v.literal("trap_exit"), enabled: v.boolean() }),
  /** Wait for the next exit event of a related run (FIFO). */
  wait_exit: v.object({ ...Identity, type: v.literal("wait_exit"), timeoutMs: v.nullable(Millis) }),
  /** Start a supervision group owned by this run, under the op's key. */
  supervise: v.object({
    ...Identity,
    type: v.literal("supervise"),
    strategy: v.picklist(["one_for_one", "one_for_all", "rest_for_one"]),
    maxRestarts: Count,
    windowMs: Millis,
    onExhausted: v.literal("fail_self"),
  }),
  /** Start a member of a group (`name` is the workflow); a member key that exists is reused. */
  supervised_spawn: v.object({ ...Identity, type: v.literal("supervised_spawn"), groupKey: Identifier, memberKey: Identifier, input: Json }),
  /** Wait for a member's result, across restarts. */
  wait_member: v.object({ ...Identity, type: v.literal("wait_member"), groupKey: Identifier, memberKey: Identifier }),
  /** Read a member's current run id (recorded). */
  member_run: v.object({ ...Identity, type: v.literal("member_run"), groupKey: Identifier, memberKey: Identifier }),
  /** Read a group's members (recorded). */
  supervision_members: v.object({ ...Identity, type: v.literal("supervision_members"), groupKey: Identifier }),
  /** Subscribe this service instance to a topic of its project; deliveries go to `handler` (an onSignal handler). */
  subscribe: v.object({ ...Identity, type: v.literal("subscribe"), topic: Identifier, handler: Identifier, maxQueued: v.nullable(Count) }),
  /** Remove this instance's subscriptions to a topic (only the one to `handler`, when given). */
  unsubscribe: v.object({ ...Identity, type: v.literal("unsubscribe"), topic: Identifier, handler: v.nullable(Identifier) }),
  /** Deliver `payload` to every subscribed, not-stopped instance of the project (`name` is the topic). */
  publish: v.object({ ...Identity, type: v.literal("publish"), topic: Identifier, payload: Json }),
} as const;

export const OpCommandSchema = tagged(v.variant("type", Object.values(OP_COMMAND_SCHEMAS)));
export type OpCommand = v.InferOutput<typeof OpCommandSchema>;
export type OpCommandType = OpCommand["type"];
export type OpCommandOf<T extends OpCommandType> = Extract<OpCommand, { type: T }>;
