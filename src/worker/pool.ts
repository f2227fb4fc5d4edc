/**
 * The managed worker pool: a runner whose activations run in long-lived worker processes (this
 * executable in worker mode), so user code never runs in the daemon.
 *
 * - Workers are grouped by the code they run (a project snapshot): each group has its own
 *   environment and up to `size` workers, started as load needs them and retired when idle.
 * - Hard stop: a timed step is announced by its worker; if the worker is silent past the deadline
 *   plus a short grace (its event loop is blocked), its process group is killed, the attempt is
 *   recorded as a forced timeout with the step's retry decision, and the other activations it
 *   held are relinquished (they replay elsewhere; nothing is recorded twice).
 * - Cancel: the activation is aborted; if its code has not stopped within a grace, the worker is
 *   killed the same way.
 * - Blocked workers: one holding work that has been silent past the project's `spare_after` (code
 *   that never yields) gets no new work, and the group may start a spare per blocked worker, up to
 *   `spare_workers`; idle ones beyond that retire (blocked-workers.ts). What it was sent just before
 *   and never read (a worker acks each activation as it reads it) goes to another worker (a spare);
 *   the blocker stays. When work of several runs
 *   had started there, it is evacuated: stopped, nobody charged, the runs halved into cohorts on
 *   workers of their own until the blocker is alone (evacuation.ts); alone, it is left to run.
 * - Crash: a worker that dies on its own costs an attempt only to the run it can be blamed on: the
 *   one whose code called `process.exit()`, or the only run it held. When it held several and
 *   cannot say (a signal, out of memory), nobody is charged and they go on in two halves, each on
 *   a worker of its own, split again at each such crash until the guilty run crashes alone
 *   (crash-blame.ts, crash-cohorts.ts); the kernel fails a run after three charged crashes in a row.
 * - Leases: a worker that holds activations, stays silent past the lease time and is stopped
 *   (SIGSTOP) loses them; what it sends when it wakes reaches the kernel with its old fence and is
 *   refused there. A silent worker that is running is busy in user code and keeps its lease.
 * - External workers (`vilano worker start`) connect over the API and are preferred while they
 *   have room. They cannot be killed: a hard stop or a cancel that needs force closes their
 *   connection instead, and leaving (even by crashing) never costs their runs an attempt.
 * - Workspaces: each activation is told its own directory (the worker makes it when first needed;
 *   a worker of a `fresh` project starts in it), and the pool removes it when the activation ends,
 *   however it ends — finished, relinquished, or its worker dead. Pooled workers start in the
 *   code's shared folder. External workers work in their own directory.
 *
 * This file is the façade: it owns the shared state (pool-state.ts) and the lease timer, and wires
 * the parts — placement (pool-placement.ts), activations and requests (pool-activations.ts), what
 * workers say (pool-messages.ts), the hard stop (pool-step-deadlines.ts), the periodic look at
 * leases and blocked workers (pool-leases.ts), and a worker's end (pool-exits.ts); a worker's own
 * bookkeeping and the one transition of its life are in pool-worker.ts.
 */
import { toFailureBody, VilanoError } from "../shared/index.ts";
import type { CodeInfo, CodeRef, Runner } from "../core/index.ts";
import { externalWorker, type WorkerLink } from "./external-link.ts";
import { placeOf } from "./blocked-workers.ts";
import { request, runActivation } from "./pool-activations.ts";
import { describeInPool } from "./pool-describe.ts";
import { onExit } from "./pool-exits.ts";
import { startStandby } from "./pool-standby.ts";
import { checkLeases } from "./pool-leases.ts";
import { kill } from "./pool-lifecycle.ts";
import { onMessage, onUnsent } from "./pool-messages.ts";
import { assign } from "./pool-placement.ts";
import { addLive, createPoolState, sparesOf, type PoolStats, type WorkerPoolOptions } from "./pool-state.ts";
import { newWorker, setBounded } from "./pool-worker.ts";

export type { Isolation, PoolStats, WorkerPoolOptions } from "./pool-state.ts";

export interface WorkerPool extends Runner {
  /**
   * What `code` defines, imported within `timeLimitMs` by a worker of its own code that then stays
   * for its first activation (pool-describe.ts).
   */
  describe(code: CodeRef, timeLimitMs: number): Promise<CodeInfo>;
  /**
   * Starts a worker ahead of any code, with `env` (the daemon's plain worker environment), in `cwd`:
   * the first code described whose workers start with that environment adopts it (pool-standby.ts).
   */
  startStandby(env: Record<string, string>, cwd: string): void;
  /** A worker that connected over the API (`vilano worker start`); returns where its messages go. */
  attachExternal(link: WorkerLink): { receive(text: string): void; closed(): void };
  /** Pids of the external workers connected now. */
  externalPids(): number[];
  /** A service's key for a key input, computed by the service's own code in a worker. */
  computeKey(code: CodeRef, service: string, keyInput: string | null): Promise<string>;
  readonly stats: PoolStats;
  /** Pids of the live worker processes. */
  pids(): number[];
}

/** Keys computed for key inputs, remembered (per code snapshot and service). */
const MAX_KEYS = 10_000;

export function createWorkerPool(options: WorkerPoolOptions): WorkerPool {
  const state = createPoolState(options, {
    message: (worker, message) => onMessage(state, worker, message),
    unsent: (worker, message, error) => onUnsent(state, worker, message, error),
    exit: (worker, exit) => onExit(state, worker, exit),
  });
  const { groups, externals, log } = state;
  const leaseCheck = setInterval(() => checkLeases(state), Math.max(50, Math.min(250, state.settings.leaseTtlMs / 4)));
  leaseCheck.unref();

  return {
    stats: state.stats,
    describe: (code, timeLimitMs) => describeInPool(state, code, timeLimitMs),
    startStandby: (env, cwd) => startStandby(state, env, cwd),
    forget(runId: string) {
      state.lastWorker.delete(runId);
      state.cohorts.release(runId);
      // Only a worker whose activation of the run ended suspended may have parked it.
      const worker = state.parkedIn.get(runId);
      if (!worker) return;
      state.parkedIn.delete(runId);
      if (worker.life.state === "live") worker.proc.send({ t: "forget", runId });
    },
    liveStats() {
      const total = { ...state.retiredLive };
      for (const group of groups.values()) for (const w of group) if (w.life.state !== "dead") addLive(total, w.live);
      for (const w of externals) if (w.life.state !== "dead") addLive(total, w.live);
      return total;
    },
    run: (activation, signal) => runActivation(state, activation, signal),
    deliver(runId, opKey, outcome) {
      const live = state.byRun.get(runId);
      if (live && !live.held.ended) live.worker.proc.send({ t: "deliver", a: live.held.a, opKey, outcome });
    },
    async computeKey(code, service, keyInput) {
      if (state.closed) throw new VilanoError("runtime_closed", "the runtime is closed");
      // A key is a function of the code and the key input (SPEC: keys are pure), so a key input
      // seen before costs no round trip to a worker.
      const known = `${code.id}\u0000${service}\u0000${keyInput ?? ""}`;
      const cached = state.keys.get(known);
      if (cached !== undefined) return cached;
      const worker = assign(state, code);
      const key = await request(state, worker, { t: "key", q: state.nextRequest++, code, service, keyInput }, `computing the key of service "${service}"`);
      if (typeof key !== "string") throw new VilanoError("internal", `the worker answered a key that is not a string: ${toFailureBody(key).message}`);
      setBounded(state.keys, known, key, MAX_KEYS);
      return key;
    },
    placeOf(runId) {
      const on = state.byRun.get(runId);
      if (!on || on.held.ended || on.worker.life.state === "dead") return undefined;
      return placeOf(on.worker, Date.now(), sparesOf(state, on.worker.code).afterMs);
    },
    pids: () => [...groups.values()].flatMap((g) => [...g].filter((w) => w.life.state !== "dead").map((w) => w.proc.pid)),
    externalPids: () => [...externals].filter((w) => w.life.state !== "dead").map((w) => w.proc.pid),
    attachExternal(link) {
      const proc = externalWorker(link, { generation: state.generation, maxValueBytes: options.kernel.maxValueBytes }, options.logger.withTag("worker"), {
        onReady: () => {
          if (state.closed) return proc.kill();
          role.takes = proc.once ? "one" : "any";
          externals.add(worker);
          log.info(`external worker ${proc.pid} connected${proc.once ? " (one activation)" : ""}`);
        },
        onMessage: (message) => onMessage(state, worker, message),
      });
      const role = { type: "external" as const, takes: "any" as "any" | "one" | "none" };
      const worker = newWorker(null, role, proc);
      void proc.exited.then((exit) => {
        if (proc.ready) log.info(`external worker ${proc.pid} disconnected`);
        onExit(state, worker, exit);
      });
      return { receive: (text) => proc.receive(text), closed: () => proc.closed() };
    },
    async close() {
      if (state.closed) return;
      state.closed = true;
      clearInterval(leaseCheck);
      const exits: Promise<unknown>[] = [];
      for (const group of [...groups.values(), externals]) {
        for (const worker of group) {
          exits.push(worker.proc.exited);
          kill(worker, "close");
        }
      }
      const standby = state.standby;
      state.standby = null;
      if (standby) {
        clearTimeout(standby.retire);
        standby.proc.kill();
        exits.push(standby.proc.exited);
      }
      await Promise.all(exits);
      await Promise.all([...state.removals]);
    },
  };
}
