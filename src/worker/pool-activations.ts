/**
 * Handing work to workers: an activation (its workspace told, its abort passed on, its worker
 * killed when cancelled code does not stop within a grace) and a request that needs user code (a
 * service's key), answered within a time or its worker is killed.
 */
import { errorCodeOf, formatDuration, VilanoError } from "../shared/index.ts";
import type { Activation } from "../kernel/index.ts";
import { prepareWorkspace } from "../core/index.ts";
import type { ToWorker } from "./protocol.ts";
import { kill, quietly, removing } from "./pool-lifecycle.ts";
import { assign, cohortWorker, sticky } from "./pool-placement.ts";
import { MAX_STICKY, type PoolState } from "./pool-state.ts";
import { setBounded, type Held, type PoolWorker } from "./pool-worker.ts";

/** Runs an activation on a worker; resolves once the activation is over (reported, taken away, or its worker dead). */
export function runActivation(state: PoolState, activation: Activation, signal: AbortSignal): Promise<void> {
  const { options, kernel, log } = state;
  if (state.closed) return Promise.resolve();
  const code = options.catalog.codeRef(activation.run);
  if (!code) {
    log.error(`run ${activation.run.id}: no code location for it; it stays running until the next start`);
    return Promise.resolve();
  }
  const workspaces = options.workspaces(code);
  const workspace = workspaces.activation(activation.run.id, activation.fence);
  // With fresh isolation the process starts in the activation's directory, so relative paths in its
  // code land there too. (A run the pool puts on a worker of its own after a hard stop is still
  // pooled code: that worker starts in the shared folder, like every pooled one.)
  // For a `[worker] user`, its folders are mended first (a link its code put in place of `runs/` is removed, never followed).
  const inWorkspace = () => {
    const user = options.user?.(code);
    prepareWorkspace(workspace, workspaces.managed ? code.dir : null, user !== undefined);
    return workspace;
  };
  let worker: PoolWorker;
  try {
    const isolated = options.isolation?.(code) === "fresh";
    const cohort = state.cohorts.of(activation.run.id);
    worker = cohort ? cohortWorker(state, cohort, code, isolated ? inWorkspace() : undefined) : (sticky(state, activation.run.id, code) ?? assign(state, code, inWorkspace));
  } catch (error) {
    // Say so, and give the run back after a pause (the cause, too many open files say, may pass).
    log.error(`run ${activation.run.id}: could not start a worker; it goes again in 1s:`, error);
    if (workspaces.removeAfter) removing(state, workspace, activation.run.id);
    return Bun.sleep(1_000).then(() =>
      kernel.relinquish(activation.run.id, activation.fence, "no worker could be started").then(
        () => undefined,
        quietly(state, `run ${activation.run.id}: could not give it back`),
      ),
    );
  }
  const { run: row, fence, ops, turn } = activation;
  const a = state.nextActivation++;
  setBounded(state.lastWorker, row.id, worker, MAX_STICKY);
  return new Promise<void>((resolve) => {
    // An external worker works in its own directory, and a folder the embedder chose is every
    // worker's own already: nothing to tell, make or remove.
    const own = worker.role.type !== "external" && workspaces.managed;
    const held: Held = { a, runId: row.id, fence, steps: new Map(), abortTimer: null, ended: false, resolve, workspace: own && workspaces.removeAfter ? workspace : null, sentAt: Date.now(), heard: false, takenBack: false, finished: false };
    worker.held.set(a, held);
    state.byRun.set(row.id, { worker, held });
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.proc.send({
      t: "activate",
      a,
      code,
      run: { id: row.id, project: row.project, kind: row.kind, name: row.name, input: row.input },
      fence,
      ops: ops.map((op) => ({
        opKey: op.opKey,
        seq: op.seq,
        kind: op.kind,
        name: op.name,
        status: op.status,
        attempt: op.attempt,
        result: op.result,
        error: op.error,
        resolvedSeq: op.resolvedSeq,
      })),
      ...(turn ? { turn } : {}),
      ...(own ? { workspace } : {}),
    });
    const onAbort = () => abort(state, worker, held, signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

function abort(state: PoolState, worker: PoolWorker, held: Held, reason: unknown): void {
  if (held.ended || worker.life.state === "dead") return;
  const code = errorCodeOf(reason) ?? "cancelled";
  worker.proc.send({ t: "abort", a: held.a, code, message: (reason as Error)?.message ?? "aborted" });
  // Closing kills every worker anyway; a cancel gives the code a grace to stop by itself.
  if (code === "runtime_closed") return;
  const { cancelGraceMs } = state.settings;
  held.abortTimer = setTimeout(() => {
    if (held.ended || worker.life.state !== "live") return;
    state.stats.cancelKills++;
    state.log.warn(`run ${held.runId} was cancelled but its code did not stop within ${formatDuration(cancelGraceMs)}; killing worker ${worker.proc.pid}`);
    kill(worker, "cancel");
  }, cancelGraceMs);
}

/** Asks a worker something only user code can answer; past the request time its worker is killed. */
export function request(state: PoolState, worker: PoolWorker, message: ToWorker & { q: number }, what: string): Promise<unknown> {
  const { requestTimeoutMs } = state.settings;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const pending = worker.requests.get(message.q);
      worker.requests.delete(message.q);
      reject(new VilanoError("timeout", `${what} did not finish within ${formatDuration(requestTimeoutMs)}${pending?.file ? ` (while importing ${pending.file})` : ""}; its worker was killed`));
      kill(worker, "request_timeout");
    }, requestTimeoutMs);
    worker.requests.set(message.q, { resolve, reject, timer });
    if (worker.idleTimer) clearTimeout(worker.idleTimer);
    worker.proc.send(message);
  });
}
