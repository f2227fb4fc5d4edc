/**
 * The pool's bookkeeping of one worker: the activations it holds (and the step attempts running in
 * them), the ones it no longer holds but may still report for, its requests and subprocess groups,
 * and how it ended. Plain data and small helpers; the pool (pool.ts) drives them.
 */
import type { LiveExecutionStats } from "../engine/index.ts";
import type { CodeRef } from "../core/index.ts";
import type { OpCommand } from "../shared/index.ts";
import type { WorkerProcess } from "./worker-process.ts";
import type { ExecGroup } from "./exec-groups.ts";

/** How many activations a worker may still report for after it no longer holds them. */
const MAX_GONE = 10_000;

/** A step attempt running in a worker, as its worker announced it. */
export interface RunningStep {
  opKey: string;
  seq: number;
  name: string;
  attempt: number;
  /** Null for a step without a timeout. */
  timeoutMs: number | null;
  retry: Extract<OpCommand, { type: "step_failed" }>["retry"];
  deadline: number | null;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface Held {
  a: number;
  runId: string;
  fence: number;
  steps: Map<string, RunningStep>;
  abortTimer: ReturnType<typeof setTimeout> | null;
  ended: boolean;
  resolve(): void;
  /** The activation's directory, removed when it ends; null when it stays (kept, shared, an external worker's). */
  workspace: string | null;
  /** When it was sent to the worker: a worker's silence counts from then at the earliest (see blocked-workers.ts). */
  sentAt: number;
  /** The worker has read it: it acks each activation as it reads it, before its code runs (or said anything else of it since). */
  heard: boolean;
  /** Taken back from a blocked worker: it ends once the kernel has it back. */
  takenBack: boolean;
  /** Its result has arrived: it ends once the kernel has recorded it; the worker owes nothing for it meanwhile. */
  finished: boolean;
}

export type DeathKind = "hard_stop" | "hard_stop_unclear" | "evacuated" | "cancel" | "expired" | "request_timeout" | "idle" | "close" | "disconnect";

export interface PoolWorker {
  proc: WorkerProcess;
  /** The code it runs (an external worker runs any: null). */
  code: CodeRef | null;
  fresh: boolean;
  external: boolean;
  /** An external worker that takes one activation only… */
  once: boolean;
  /** …and has had it. */
  spent: boolean;
  held: Map<number, Held>;
  /**
   * Activations this worker no longer holds but may still report for: taken away by a lease
   * expiry, or reported suspended while its code went on. What it sends for them goes to the
   * kernel, which judges the fence (a suspended run's lease stands until it is leased again).
   */
  gone: Map<number, string>;
  requests: Map<number, { resolve(value: unknown): void; reject(error: unknown): void; timer: ReturnType<typeof setTimeout>; file?: string }>;
  /** Process groups of `ctx.exec` subprocesses running in this worker (checked in /proc when it said so: exec-groups.ts): killed when the worker dies. */
  execGroups: Map<number, ExecGroup>;
  /** The uid its code runs as (a `[worker] user`'s, or the daemon's); null for an external worker, whose user is not known here. */
  uid: number | null;
  /** When its process started (clock ticks since boot, read at spawn); null for an external worker. */
  start: number | null;
  state: "live" | "expired" | "dying" | "dead";
  death: { kind: DeathKind; victims: Map<number, RunningStep> } | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
  /** How its parked executions have fared, as it last said. */
  live: LiveExecutionStats;
}

/** A worker's bookkeeping; its process (or connection) is filled in right after. */
export const newWorker = (code: CodeRef | null, kind: { fresh: boolean; external: boolean }): PoolWorker => ({
  live: { parked: 0, resumed: 0, evicted: 0, stale: 0 },
  code,
  ...kind,
  once: false,
  spent: false,
  held: new Map(),
  gone: new Map(),
  requests: new Map(),
  execGroups: new Map(),
  uid: null,
  start: null,
  state: "live",
  death: null,
  idleTimer: null,
  proc: undefined as unknown as WorkerProcess,
});

/** Sets a key in a map kept to `max` entries: the oldest are forgotten first. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}

/** An activation the worker still owes word of: not ended, finished or taken back. */
export const owed = (held: Held): boolean => !held.ended && !held.finished && !held.takenBack;

/** Remembers an activation the worker no longer holds, so what it still sends for it is heard. */
export const remember = (worker: PoolWorker, a: number, runId: string): void => setBounded(worker.gone, a, runId, MAX_GONE);

/** The run of an activation the worker holds, or no longer holds but may still report for. */
export const runOf = (worker: PoolWorker, a: number): string | undefined => worker.held.get(a)?.runId ?? worker.gone.get(a);
