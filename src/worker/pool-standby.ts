/**
 * A worker started ahead of any code: the daemon starts one once it listens, so the first snapshot
 * it describes (a `project add` right after start, or the first run after a restart) does not wait
 * for a process to start — the largest part of a registration. The first code described that a worker
 * of the daemon's plain environment can run adopts it: it moves to the code's shared folder
 * (`start_in`, before it has imported anything) and from then on is that code's pooled worker like
 * any other. Code with an environment of its own (`[worker] env`, `pass_env`), another OS user or
 * `fresh` isolation is not adopted: its workers are started for it, as they always were. Nobody
 * adopting it within the idle time, it retires; it is not replaced.
 */
import { readdirSync } from "node:fs";
import { processStartTime } from "../shared/index.ts";
import { makeWorkspaceFolder, type CodeRef } from "../core/index.ts";
import { settleIdle } from "./pool-lifecycle.ts";
import type { PoolState, Standby } from "./pool-state.ts";
import { newWorker, type PoolWorker } from "./pool-worker.ts";
import { spawnWorker } from "./worker-process.ts";

/** Starts the standby worker (once), with the daemon's plain worker environment, in `cwd`. */
export function startStandby(state: PoolState, env: Record<string, string>, cwd: string): void {
  if (state.closed || state.standby !== null) return;
  const { options } = state;
  const proc = spawnWorker({
    generation: state.generation,
    ...(options.liveExecutions !== undefined ? { liveExecutions: options.liveExecutions } : {}),
    maxValueBytes: options.kernel.maxValueBytes,
    env,
    cwd,
    logger: options.logger.withTag("worker"),
    onMessage: (message) => standby.adopted && state.events.message(standby.adopted, message),
    onUnsent: (message, error) => standby.adopted && state.events.unsent(standby.adopted, message, error),
  });
  const retire = setTimeout(() => {
    if (state.standby !== standby) return;
    state.standby = null;
    proc.kill();
  }, state.settings.idleRetireMs);
  retire.unref();
  const standby: Standby = { proc, env, start: processStartTime(proc.pid), retire, adopted: null };
  state.standby = standby;
  void proc.exited.then((exit) => {
    if (standby.adopted) return state.events.exit(standby.adopted, exit);
    // Retired, or the pool closed: nothing to say.
    if (state.standby !== standby) return;
    state.standby = null;
    state.log.warn(`the worker started ahead (${proc.pid}) ended before any code adopted it (${exit.signal ?? `exit code ${exit.exitCode}`}); code gets workers started for it`);
  });
}

/**
 * The standby as a pooled worker of `code`, if that code's workers would start exactly like it (the
 * same environment, the daemon's user, pooled); undefined otherwise, and it stays for other code.
 */
export function adoptStandby(state: PoolState, code: CodeRef): PoolWorker | undefined {
  const standby = state.standby;
  const { options } = state;
  if (!standby || !standby.proc.alive || options.isolation?.(code) === "fresh" || options.user?.(code) !== undefined) return undefined;
  if (!sameEnvironment(standby.env, options.environment(code))) return undefined;
  const shared = options.workspaces(code).shared;
  makeWorkspaceFolder(shared, false);
  // Bun reads these from a process's starting folder, which for the standby was another one: a
  // worker started for the code would have them, so this one would not start like it.
  if (startsDifferentlyIn(shared)) return undefined;
  state.standby = null;
  clearTimeout(standby.retire);
  let group = state.groups.get(code.id);
  if (!group) state.groups.set(code.id, (group = new Set()));
  const worker = newWorker(code, { type: "pooled" }, standby.proc, { uid: process.getuid?.() ?? null, start: standby.start });
  standby.adopted = worker;
  // Before anything of the code: the IPC keeps the order, so it is there when the code is imported.
  standby.proc.send({ t: "start_in", dir: shared });
  state.stats.spawned++;
  group.add(worker);
  settleIdle(state, worker);
  return worker;
}

function sameEnvironment(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Whether `dir` holds what Bun loads at a process's start from its folder (`.env` files, `bunfig.toml`). */
function startsDifferentlyIn(dir: string): boolean {
  return readdirSync(dir).some((name) => name.startsWith(".env") || name === "bunfig.toml");
}
