/**
 * The op kinds, declared once. What an activation asks the kernel to record: one command shape per
 * op, as a valibot schema (checked when a worker's report arrives) from which the TypeScript type is
 * derived, with the values each command carries (for the size cap); and every journal kind those
 * commands write (`OP_KINDS`): which commands record it, whether it is nameless or awaited, and how
 * the timeline draws it. The kernel's handling of each kind lives in `kernel/ops/<kind>.ts`.
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

/** A value a command would record (JSON text, or null for none), with how an error names it. */
export type RecordedValue = readonly [text: string | null, what: string];

/**
 * The values each command records, checked against the size cap (`kernel/value-limit.ts`) before
 * anything of it is written. Keyed by every command type, so a new command says what it carries.
 */
const VALUES: { [C in OpCommandType]: (cmd: OpCommandOf<C>, op: string) => readonly RecordedValue[] } = {
  step_completed: (cmd, op) => [
    [cmd.result, `the result of ${cmd.kind ?? "step"} "${cmd.name}" ${op}`],
    [cmd.meta ?? null, `the record of ${cmd.kind ?? "step"} "${cmd.name}" (its argv) ${op}`],
  ],
  step_failed: (cmd, op) => [[cmd.meta ?? null, `the record of ${cmd.kind ?? "step"} "${cmd.name}" (its argv) ${op}`]],
  sleep: () => [],
  wait_signal: () => [],
  record: (cmd, op) => [[cmd.value, `the ${cmd.kind} value ${op}`]],
  connect: (cmd, op) => [[cmd.keyInput, `the key input of service "${cmd.name}" ${op}`]],
  send: (cmd, op) => [[cmd.payload, `the payload of ${cmd.name} ${op}`]],
  ask: (cmd, op) => [[cmd.payload, `the payload of ${cmd.name} ${op}`]],
  service_status: () => [],
  spawn: (cmd, op) => [[cmd.input, `the input of child workflow "${cmd.name}" ${op}`]],
  wait_child: () => [],
  child_status: () => [],
  child_signal: (cmd, op) => [[cmd.payload, `the payload of signal "${cmd.name}" ${op}`]],
  relate: () => [],
  trap_exit: () => [],
  wait_exit: () => [],
  supervise: () => [],
  supervised_spawn: (cmd, op) => [[cmd.input, `the input of supervised workflow "${cmd.name}" ${op}`]],
  wait_member: () => [],
  member_run: () => [],
  supervision_members: () => [],
  subscribe: () => [],
  unsubscribe: () => [],
  publish: (cmd, op) => [[cmd.payload, `the payload published to "${cmd.topic}" ${op}`]],
};

/** The values `cmd` would record, each named with its op for an error. */
export const recordedValues = (cmd: OpCommand): readonly RecordedValue[] =>
  (VALUES[cmd.type] as (cmd: OpCommand, op: string) => readonly RecordedValue[])(cmd, `(op ${cmd.opKey})`);

/** What the runtime needs to know of one journal kind (`ops.kind`), declared once in `OP_KINDS`. */
export interface OpKindDeclaration {
  /** The commands that record an op of this kind (a command may record several kinds). */
  recordedBy: readonly OpCommandType[];
  /** Its ops carry no user-given name: the key is `<kind>:<n>` and replay compares no name. */
  nameless: boolean;
  /**
   * The code awaited its outcome, so replay releases it in delivery order (`resolvedSeq`). False
   * for a value known at call time (a log line, a clock reading, an id derived from the op's key).
   */
  awaited: boolean;
  /**
   * The timeline events that tell of its ops (`shared/event-types.ts` adds them to `EVENT_TYPE`):
   * a new kind declares its new events here, once.
   */
  events: readonly string[];
  /** On the timeline: the one of its events that opens the op's wait, drawn up to the op's next event (or to now). */
  waitOpener: string | null;
  /** On the timeline: the ones of its events that end one of the op's attempts. */
  attemptEnds: readonly string[];
}

const plain = { waitOpener: null, attemptEnds: [] } as const;
/** Known at call time and recorded with `record`: nameless, nothing awaited, nothing drawn. */
const recorded = { recordedBy: ["record"], nameless: true, awaited: false, events: ["value_recorded"], ...plain } as const;
/** A step's or an exec's attempts: a failed one retried after a backoff (a timer). */
const attempts = <P extends "step" | "exec">(prefix: P) =>
  ({
    recordedBy: ["step_completed", "step_failed"],
    nameless: false,
    awaited: true,
    events: [`${prefix}_completed`, `${prefix}_attempt_failed`, `${prefix}_failed`, "retry_scheduled", "timer_fired"],
    waitOpener: null,
    attemptEnds: [`${prefix}_completed`, `${prefix}_attempt_failed`, `${prefix}_failed`],
  }) as const;

/**
 * Every journal kind, once. `OP_KIND`, the engine's nameless and awaited sets and the timeline's
 * event sets are read from here; the kernel's handling of each kind is in `kernel/ops/`.
 */
export const OP_KINDS = {
  step: attempts("step"),
  exec: attempts("exec"),
  sleep: { recordedBy: ["sleep"], nameless: true, awaited: true, events: ["timer_scheduled", "timer_fired"], waitOpener: "timer_scheduled", attemptEnds: [] },
  signal: {
    recordedBy: ["wait_signal"],
    nameless: false,
    awaited: true,
    events: ["signal_wait_started", "signal_consumed", "signal_timed_out"],
    waitOpener: "signal_wait_started",
    attemptEnds: [],
  },
  log: { ...recorded, events: ["log"] },
  now: recorded,
  random: recorded,
  mailbox: recorded,
  connect: { recordedBy: ["connect"], nameless: false, awaited: false, events: ["service_connected"], ...plain },
  send: { recordedBy: ["send"], nameless: false, awaited: true, events: ["message_sent"], ...plain },
  ask: { recordedBy: ["ask"], nameless: false, awaited: true, events: ["ask_sent", "ask_timed_out"], waitOpener: "ask_sent", attemptEnds: [] },
  service_status: { recordedBy: ["service_status"], nameless: false, awaited: true, events: [], ...plain },
  /** Start (or reuse) a child workflow run; its id is derived from the op's key. */
  spawn: { recordedBy: ["spawn"], nameless: false, awaited: false, events: ["child_started"], waitOpener: "child_started", attemptEnds: [] },
  /** Wait for a child run's end: its output, or its error. */
  child_result: { recordedBy: ["wait_child"], nameless: false, awaited: true, events: ["child_ended"], ...plain },
  child_status: { recordedBy: ["child_status"], nameless: false, awaited: true, events: [], ...plain },
  child_signal: { recordedBy: ["child_signal"], nameless: false, awaited: true, events: ["child_signalled"], ...plain },
  monitor: { recordedBy: ["relate"], nameless: false, awaited: true, events: ["relationship_added"], ...plain },
  link: { recordedBy: ["relate"], nameless: false, awaited: true, events: ["relationship_added"], ...plain },
  trap_exit: { recordedBy: ["trap_exit"], nameless: true, awaited: false, events: ["traps_exits"], ...plain },
  /** Wait for the next exit event (ctx.nextExit). */
  exit_wait: {
    recordedBy: ["wait_exit"],
    nameless: true,
    awaited: true,
    events: ["exit_wait_started", "exit_consumed", "exit_wait_timed_out"],
    waitOpener: "exit_wait_started",
    attemptEnds: [],
  },
  supervise: { recordedBy: ["supervise"], nameless: true, awaited: false, events: ["supervisor_started"], ...plain },
  member_spawn: { recordedBy: ["supervised_spawn"], nameless: false, awaited: false, events: ["member_started"], waitOpener: "member_started", attemptEnds: [] },
  member_result: { recordedBy: ["wait_member"], nameless: false, awaited: true, events: ["child_ended"], ...plain },
  member_run: { recordedBy: ["member_run"], nameless: false, awaited: true, events: [], ...plain },
  members: { recordedBy: ["supervision_members"], nameless: true, awaited: true, events: [], ...plain },
  subscribe: { recordedBy: ["subscribe"], nameless: false, awaited: true, events: ["subscribed"], ...plain },
  unsubscribe: { recordedBy: ["unsubscribe"], nameless: false, awaited: true, events: ["unsubscribed"], ...plain },
  /** Delivers to the topic's subscribers; `published` counts the matched, enqueued and rejected. */
  publish: { recordedBy: ["publish"], nameless: false, awaited: true, events: ["published"], ...plain },
} as const satisfies Record<string, OpKindDeclaration>;

export type OpKind = keyof typeof OP_KINDS;
/** Each kind by name (`OP_KIND.sleep`), for code that writes one. */
export const OP_KIND = Object.fromEntries(Object.keys(OP_KINDS).map((kind) => [kind, kind])) as { readonly [K in OpKind]: K };

/** True for a kind the journal knows (a kind read back from an op key, say). */
export const isOpKind = (kind: string): kind is OpKind => Object.hasOwn(OP_KINDS, kind);

// Every command records some kind: a command no kind names does not compile.
type UnrecordedCommand = Exclude<OpCommandType, (typeof OP_KINDS)[OpKind]["recordedBy"][number]>;
const everyCommandRecordsAKind: [UnrecordedCommand] extends [never] ? true : `no kind in OP_KINDS is recorded by ${UnrecordedCommand}` = true;
void everyCommandRecordsAKind;

/** The timeline events the op kinds declare. */
export type OpEventType = (typeof OP_KINDS)[OpKind]["events"][number];
// A kind's timeline opener and attempt ends are among its own events: a misspelt one does not compile.
type MisdrawnEvent = {
  [K in OpKind]: Exclude<(typeof OP_KINDS)[K]["waitOpener"] | (typeof OP_KINDS)[K]["attemptEnds"][number], (typeof OP_KINDS)[K]["events"][number] | null>;
}[OpKind];
const everyDrawnEventIsDeclared: [MisdrawnEvent] extends [never] ? true : `timeline event ${MisdrawnEvent} is not among its kind's events` = true;
void everyDrawnEventIsDeclared;

const kindsWhere = (test: (declaration: OpKindDeclaration) => boolean): ReadonlySet<string> =>
  new Set(Object.entries(OP_KINDS).flatMap(([kind, declaration]) => (test(declaration) ? [kind] : [])));
/** Kinds whose ops have no user-given name (key `<kind>:<n>`). */
export const NAMELESS_KINDS = kindsWhere((d) => d.nameless);
/** Kinds whose outcome the code awaited (released in delivery order on replay). */
export const AWAITED_KINDS = kindsWhere((d) => d.awaited);
