/**
 * The pool's bookkeeping of one worker: the activations it holds (and the step attempts running in
 * them), the ones it no longer holds but may still report for, its requests and subprocess groups,
 * its role and where it is in its life (one transition function, nextLife). Plain data and small
 * helpers; the pool (pool.ts and its pool-*.ts parts) drives them.
 */
import type { LiveExecutionStats } from "../engine/index.ts";
import type { CodeRef } from "../core/index.ts";
import type { OpCommand } from "../shared/index.ts";
import type { WorkerExit, WorkerProcess } from "./worker-process.ts";
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

export type DeathKind = "hard_stop" | "hard_stop_unclear" | "evacuated" | "cancel" | "expired" | "request_timeout" | "import_failed" | "idle" | "close" | "disconnect";

/** Why the pool ended a worker, and the step attempts a hard stop charges (by activation). */
export interface Death {
  kind: DeathKind;
  victims: Map<number, RunningStep>;
}

/** Whom a worker works for; set when it starts. */
export type WorkerRole =
  /** Shares its code's activations with the other pooled workers of that code. */
  | { readonly type: "pooled" }
  /** Started for one activation (fresh isolation) or one cohort of suspects; retires as soon as it is idle. */
  | { readonly type: "own" }
  /** Connected over the API (`vilano worker start`), runs any code; `one` takes a single activation, `none` has had it. */
  | { readonly type: "external"; takes: "any" | "one" | "none" };

/**
 * Where a worker is in its life. Only `live` workers get work; an `expired` one (stopped past its
 * lease) lost its activations and is heard only until it is retired; a `dying` one was ended by
 * the pool for `death`; a `dead` one has exited (`death` null: it died on its own).
 */
export type WorkerLife =
  | { readonly state: "live" }
  | { readonly state: "expired" }
  | { readonly state: "dying"; readonly death: Death }
  | { readonly state: "dead"; readonly death: Death | null };

export type LifeEvent =
  /** Stopped and silent past its lease: its activations go elsewhere. */
  | { readonly type: "expire" }
  /** The pool ends it (its process group is killed, its connection closed). */
  | { readonly type: "kill"; readonly death: Death }
  /** Its process exited (or its connection closed). */
  | { readonly type: "exit" };

const LIVE: WorkerLife = { state: "live" };
const EXPIRED: WorkerLife = { state: "expired" };

/**
 * The one transition of a worker's life. A worker is ended once: a second kill keeps the first
 * death (the one its activations are judged by), and nothing brings back a dead worker.
 */
export function nextLife(life: WorkerLife, event: LifeEvent): WorkerLife {
  switch (event.type) {
    case "expire":
      return life.state === "live" ? EXPIRED : life;
    case "kill":
      return life.state === "live" || life.state === "expired" ? { state: "dying", death: event.death } : life;
    case "exit":
      return life.state === "dead" ? life : { state: "dead", death: life.state === "dying" ? life.death : null };
  }
}

/** A question put to a worker that only user code can answer (a registration, a service's key). */
export interface PendingRequest {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
  /** The file the worker said it is importing. */
  file?: string;
  /** The error when the worker ends before it answers (default: an internal one naming the worker). */
  exited?(exit: WorkerExit): unknown;
}

export interface PoolWorker {
  readonly proc: WorkerProcess;
  /** The code it runs (an external worker runs any: null). */
  readonly code: CodeRef | null;
  readonly role: WorkerRole;
  /** Changed only through `transition`. */
  readonly life: WorkerLife;
  held: Map<number, Held>;
  /**
   * Activations this worker no longer holds but may still report for: taken away by a lease
   * expiry, or reported suspended while its code went on. What it sends for them goes to the
   * kernel, which judges the fence (a suspended run's lease stands until it is leased again).
   */
  gone: Map<number, string>;
  requests: Map<number, PendingRequest>;
  /** Process groups of `ctx.exec` subprocesses running in this worker (checked in /proc when it said so: exec-groups.ts): killed when the worker dies. */
  execGroups: Map<number, ExecGroup>;
  /** The uid its code runs as (a `[worker] user`'s, or the daemon's); null for an external worker, whose user is not known here. */
  readonly uid: number | null;
  /** When its process started (clock ticks since boot, read at spawn); null for an external worker. */
  readonly start: number | null;
  idleTimer: ReturnType<typeof setTimeout> | null;
  /** How its parked executions have fared, as it last said. */
  live: LiveExecutionStats;
}

/** Moves a worker's life on by `event` (nextLife); returns the life it had. */
export function transition(worker: PoolWorker, event: LifeEvent): WorkerLife {
  const before = worker.life;
  (worker as { life: WorkerLife }).life = nextLife(before, event);
  return before;
}

/** How the pool ended a worker, if it did (null while it lives, or when it died on its own). */
export const deathOf = (worker: PoolWorker): Death | null => (worker.life.state === "dying" || worker.life.state === "dead" ? worker.life.death : null);

/** Shares its code's activations with the other pooled workers (not one of its own, not external). */
export const isPooled = (worker: PoolWorker): boolean => worker.role.type === "pooled";

/** The bookkeeping of a worker that has just started (or connected). */
export const newWorker = (code: CodeRef | null, role: WorkerRole, proc: WorkerProcess, owner: { uid: number | null; start: number | null } = { uid: null, start: null }): PoolWorker => ({
  proc,
  code,
  role,
  life: LIVE,
  held: new Map(),
  gone: new Map(),
  requests: new Map(),
  execGroups: new Map(),
  ...owner,
  idleTimer: null,
  live: { parked: 0, resumed: 0, evicted: 0, stale: 0 },
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
