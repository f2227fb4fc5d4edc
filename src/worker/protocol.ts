/**
 * The worker protocol: plain data over Bun's IPC between the daemon's pool and a worker process,
 * checked with valibot when it arrives on either side. Every report carries the activation's lease
 * fence; the kernel, not the pool, decides whether it still counts.
 *
 * Activations are numbered by the pool (`a`); requests that are not activations (describe a
 * project, compute a service key) are numbered `q`; a report waiting for its commit is numbered `c`.
 */
import * as v from "valibot";
import {
  Count,
  FailureBodySchema,
  Identifier,
  Json,
  MESSAGE_KIND,
  Millis,
  OP_STATUS,
  OpCommandSchema,
  RetryPolicySchema,
  tagged,
  VilanoError,
  type ActivationResult,
  type FailureBody,
  type HistoryOp,
  type LiveOutcome,
  type OpKind,
  type OpResolution,
  type TurnInput,
} from "../shared/index.ts";
import type { CodeInfo } from "../core/catalog.ts";

const ActivationResultVariant = v.variant("type", [
  v.object({ type: v.literal("completed"), output: Json }),
  v.object({ type: v.literal("failed"), error: FailureBodySchema }),
  v.object({ type: v.literal("suspended") }),
  v.object({ type: v.literal("aborted") }),
  v.object({ type: v.literal("turn_completed"), state: v.optional(Json), reply: Json, stop: v.boolean(), subscriptions: v.optional(v.literal(true)) }),
  v.object({ type: v.literal("turn_failed"), error: FailureBodySchema, retry: RetryPolicySchema }),
  v.object({ type: v.literal("deferred"), delayMs: Millis, reason: v.optional(v.string()) }),
  v.object({ type: v.literal("rejected"), error: FailureBodySchema }),
]);

const ActivationResultSchema = tagged(ActivationResultVariant);

const CodeInfoSchema = v.object({
  workflows: v.array(v.string()),
  services: v.array(
    v.object({
      name: v.string(),
      handlers: v.object({ send: v.array(v.string()), ask: v.array(v.string()), signal: v.array(v.string()) }),
      maxQueued: v.nullable(Count),
    }),
  ),
});

/** What a worker may send. */
export const FromWorkerSchema = tagged(v.variant("t", [
  /** `once`: an external worker that takes one activation and leaves. */
  v.object({ t: v.literal("ready"), generation: v.string(), pid: Count, once: v.optional(v.boolean()) }),
  v.object({ t: v.literal("hb") }),
  v.object({ t: v.literal("report"), a: Count, c: Count, fence: Count, cmd: OpCommandSchema }),
  v.object({ t: v.literal("post"), a: Count, fence: Count, cmd: OpCommandSchema }),
  /** `live`: how this worker's parked executions have fared so far (cumulative). */
  v.object({
    t: v.literal("finish"),
    a: Count,
    fence: Count,
    result: ActivationResultSchema,
    live: v.optional(v.object({ parked: Count, resumed: Count, evicted: Count, stale: Count })),
  }),
  /** The code settled after its activation was reported suspended (see ActivationHost.settleLate). */
  v.object({ t: v.literal("late"), a: Count, fence: Count, result: ActivationResultSchema }),
  /** Code went on this long after a sleep's due time: the kernel fires sleeps further ahead. */
  v.object({ t: v.literal("sleep_late"), ms: Millis }),
  /** A `ctx.log` line to print live (the run is the activation's: a worker never names a run itself). */
  v.object({ t: v.literal("log"), a: Count, message: v.string(), fields: v.optional(v.unknown()) }),
  /** The worker has read this activation (sent before any of its code runs): see blocked-workers.ts. */
  v.object({ t: v.literal("started"), a: Count }),
  /** A step started an attempt: the pool hard-stops the worker if it is silent past a timed step's deadline. */
  v.object({ t: v.literal("step"), a: Count, opKey: Identifier, seq: Count, name: Identifier, attempt: Count, timeoutMs: v.nullable(Millis), retry: RetryPolicySchema }),
  v.object({ t: v.literal("step_end"), a: Count, opKey: Identifier }),
  /** A `ctx.exec` subprocess started (it leads its own process group) or ended. */
  v.object({ t: v.literal("exec_start"), a: Count, pid: Count }),
  v.object({ t: v.literal("exec_end"), a: Count, pid: Count }),
  v.object({ t: v.literal("exec_output"), a: Count, opKey: Identifier, attempt: Count, stream: v.picklist(["stdout", "stderr"]), text: v.string() }),
  /** A declared artifact, capped, as base64. */
  v.object({ t: v.literal("exec_artifact"), a: Count, opKey: Identifier, attempt: Count, path: Identifier, content: v.string(), bytes: Count }),
  v.object({ t: v.literal("importing"), q: Count, file: v.string() }),
  v.object({ t: v.literal("answer"), q: Count, ok: v.literal(true), value: v.unknown() }),
  v.object({ t: v.literal("answer"), q: Count, ok: v.literal(false), error: FailureBodySchema }),
]));
export type FromWorker = v.InferOutput<typeof FromWorkerSchema>;

const CodeRefSchema = v.object({ id: v.string(), dir: v.string() });
const HistoryOpSchema = v.object({
  opKey: v.string(),
  seq: Count,
  /**
   * Any text: a kind this worker does not know (recorded by a newer daemon) must reach replay, which
   * fails the run naming it as a divergence, rather than fail the parse and drop the activation.
   */
  kind: v.pipe(
    v.string(),
    v.transform((kind) => kind as OpKind),
  ),
  name: v.string(),
  status: v.picklist(Object.values(OP_STATUS)),
  attempt: Count,
  result: Json,
  error: Json,
  resolvedSeq: v.nullable(Count),
});
const MessageKind = v.picklist(Object.values(MESSAGE_KIND));
const TurnInputSchema = v.object({
  scope: v.string(),
  message: v.object({ id: Count, kind: MessageKind, name: v.string(), payload: Json, attempt: Count }),
  state: Json,
  keyInput: Json,
  mailbox: v.object({
    current: v.object({ id: Count, kind: MessageKind, name: v.string(), attempt: Count, enqueuedAt: Millis }),
    queued: v.object({
      total: Count,
      ready: Count,
      deferred: Count,
      asks: Count,
      sends: Count,
      signals: Count,
      oldestAt: v.optional(Millis),
      nextWakeAt: v.optional(Millis),
    }),
  }),
});
const LiveOutcomeSchema = v.variant("status", [
  v.object({ status: v.literal("completed"), result: Json }),
  v.object({ status: v.literal("failed"), error: FailureBodySchema }),
]);

/** What the pool may send. */
export const ToWorkerSchema = tagged(v.variant("t", [
  /** The first message to an external worker: the daemon generation it must answer with. */
  /** `maxValueBytes`: the daemon's value cap, which an external worker checks before it sends (as a managed one is told with a flag). */
  v.object({ t: v.literal("welcome"), generation: v.string(), maxValueBytes: v.optional(Count) }),
  v.object({
    t: v.literal("activate"),
    a: Count,
    code: CodeRefSchema,
    run: v.object({ id: v.string(), project: v.string(), kind: v.string(), name: v.string(), input: Json }),
    fence: Count,
    ops: v.array(HistoryOpSchema),
    turn: v.optional(TurnInputSchema),
    /** The activation's own working directory (made by the worker when first needed); absent: the worker's own. */
    workspace: v.optional(v.string()),
  }),
  v.object({ t: v.literal("reply"), a: Count, c: Count, ok: v.literal(true), res: v.unknown() }),
  v.object({ t: v.literal("reply"), a: Count, c: Count, ok: v.literal(false), code: v.string(), message: v.string() }),
  v.object({ t: v.literal("deliver"), a: Count, opKey: v.string(), outcome: LiveOutcomeSchema }),
  v.object({ t: v.literal("abort"), a: Count, code: v.string(), message: v.string() }),
  /** The run has ended: drop its parked execution. */
  v.object({ t: v.literal("forget"), runId: v.string() }),
  v.object({ t: v.literal("describe"), q: Count, code: CodeRefSchema }),
  /** To a worker started ahead of its code, before anything of it: work in `dir` (its code's shared folder) from now on. */
  v.object({ t: v.literal("start_in"), dir: v.string() }),
  v.object({ t: v.literal("key"), q: Count, code: CodeRefSchema, service: v.string(), keyInput: Json }),
]));
export type ToWorker = v.InferOutput<typeof ToWorkerSchema>;

/** Parses a message that crossed the process boundary; a malformed one is a protocol error. */
export function parseMessage<S extends v.GenericSchema>(schema: S, raw: unknown, from: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issue = parsed.issues[0];
  const path = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
  throw new VilanoError("internal", `malformed message from ${from}${path ? ` at ${path}` : ""}: ${issue?.message ?? "invalid"}`);
}

// The schemas must describe exactly the shared protocol types: this fails to compile if they drift.
type Assert<T extends true> = T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type ProtocolMatchesTypes = [
  Assert<Same<v.InferOutput<typeof FailureBodySchema>, FailureBody>>,
  Assert<Same<v.InferOutput<typeof ActivationResultSchema>, ActivationResult>>,
  Assert<Same<v.InferOutput<typeof HistoryOpSchema>, HistoryOp>>,
  Assert<Same<v.InferOutput<typeof TurnInputSchema>, TurnInput>>,
  Assert<Same<v.InferOutput<typeof LiveOutcomeSchema>, LiveOutcome>>,
];
export { CodeInfoSchema };
export type { OpResolution, CodeInfo };
