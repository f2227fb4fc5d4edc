/**
 * Runs activations in this process: fastest, no isolation and no hard stop (a step that blocks
 * the event loop blocks everything). The daemon uses the worker pool instead.
 */
import { errorCodeOf, VilanoError, type Clock, type LiveOutcome, type Logger, type OpCommand } from "../shared/index.ts";
import { runServiceTurn, runWorkflowActivation, type ActivationHost } from "../engine/index.ts";
import type { Activation, Executor, Kernel } from "../kernel/index.ts";
import type { AnyServiceDefinition, WorkflowDefinition } from "../sdk/index.ts";
import type { RunRow } from "../store/index.ts";

export interface Definitions {
  workflows: ReadonlyMap<string, WorkflowDefinition>;
  services: ReadonlyMap<string, AnyServiceDefinition>;
}

const has = (definitions: Definitions | null, run: RunRow) =>
  definitions !== null && (run.kind === "service" ? definitions.services.has(run.name) : definitions.workflows.has(run.name));

/**
 * Where an executor finds the code of a run: one fixed set (embedded), or per project snapshot
 * (daemon), loaded on demand.
 */
export interface DefinitionSource {
  /** The definitions for this run's snapshot if they are loaded, else null. Must not do I/O. */
  current(run: RunRow): Definitions | null;
  /** Loads the run's definitions; false when they cannot be had (unknown project, bad snapshot). */
  load?(run: RunRow): Promise<boolean>;
}

export const fixedDefinitions = (definitions: Definitions): DefinitionSource => ({ current: () => definitions });

export interface InProcessExecutor extends Executor {
  close(): void;
  /** Resolves when no activation is running or queued. */
  idle(): Promise<void>;
}

export function createInProcessExecutor(options: {
  kernel: Kernel;
  definitions: DefinitionSource;
  clock: Clock;
  logger: Logger;
  maxConcurrent: number;
}): InProcessExecutor {
  const { kernel, definitions, clock, maxConcurrent } = options;
  const log = options.logger.withTag("executor");
  const runLog = options.logger.withTag("run");
  const ready: string[] = [];
  const queued = new Set<string>();
  const controllers = new Map<string, AbortController>();
  /** Live activations that can take outcomes committed while their code runs. */
  const receivers = new Map<string, (opKey: string, outcome: LiveOutcome) => void>();
  const missingWarned = new Set<string>();
  const idleWaiters: (() => void)[] = [];
  let active = 0;
  /** Slots promised to leases taken inside transactions not yet committed. */
  let reserved = 0;
  let closed = false;

  const pump = () => {
    while (!closed && active + reserved < maxConcurrent && ready.length > 0) {
      const runId = ready.shift()!;
      queued.delete(runId);
      active++;
      void leaseAndRun(runId).finally(settleSlot);
    }
  };

  /** Leases a pending run through the kernel, then runs it. */
  async function leaseAndRun(runId: string): Promise<void> {
    // Registered before the lease is taken, so a cancel committed in the same batch reaches it.
    const controller = register(runId);
    let activation;
    try {
      activation = await kernel.activate(runId);
    } catch (error) {
      if (!closed) log.error(`could not activate run ${runId}:`, error);
    }
    if (activation) await runActivation(activation, controller);
    unregister(runId, controller);
  }

  const register = (runId: string) => {
    const controller = new AbortController();
    controllers.set(runId, controller);
    return controller;
  };
  // A re-dispatch may already have registered the next activation's controller.
  const unregister = (runId: string, controller: AbortController) => {
    if (controllers.get(runId) === controller) controllers.delete(runId);
  };

  async function runActivation(activation: Activation, controller: AbortController): Promise<void> {
    const { fence, run, ops, turn } = activation;
    const runId = run.id;
    if (controller.signal.aborted) return;
    const host: ActivationHost = {
      report: (cmd: OpCommand) => kernel.reportOp(runId, fence, cmd),
      post: (cmd: OpCommand) => {
        kernel.reportOp(runId, fence, cmd).catch((error) => {
          if (!closed && errorCodeOf(error) !== "stale_lease") log.warn(`run ${runId}: could not record ${cmd.opKey}:`, error);
        });
      },
      now: clock.now,
      printLog: (id, message, fields) => (fields === undefined ? runLog.info(`${id} ${message}`) : runLog.info(`${id} ${message}`, fields)),
      signal: controller.signal,
      receiveOutcomes: (deliver) => receivers.set(runId, deliver),
      settleLate: (late) => {
        log.warn(
          `run ${runId}: its code went on after it looked blocked on a durable wait — it awaited work that is not a ctx operation; put such work inside ctx.step`,
        );
        kernel.finishActivation(runId, fence, late).catch((error) => {
          if (!closed && errorCodeOf(error) !== "stale_lease") log.warn(`run ${runId}: late result dropped:`, error);
        });
      },
    };
    try {
      const code = definitions.current(run)!;
      const result = turn
        ? await runServiceTurn(code.services.get(run.name)!, { runId, project: run.project, ops, turn }, host)
        : await runWorkflowActivation(code.workflows.get(run.name)!, { runId, project: run.project, input: run.input, ops }, host);
      receivers.delete(runId);
      if (result.type !== "aborted") await kernel.finishActivation(runId, fence, result);
    } catch (error) {
      const code = errorCodeOf(error);
      if (!closed && code !== "stale_lease" && code !== "runtime_closed") log.error(`run ${runId}: activation failed:`, error);
    }
  }

  const settleSlot = () => {
    active--;
    pump();
    if (active === 0 && ready.length === 0) for (const done of idleWaiters.splice(0)) done();
  };

  return {
    dispatch(run: RunRow) {
      if (closed || queued.has(run.id)) return;
      if (!has(definitions.current(run), run)) {
        if (definitions.load) {
          // Load the run's snapshot, then try again; a failure is logged by the source.
          void definitions.load(run).then((ok) => ok && has(definitions.current(run), run) && this.dispatch(run));
          return;
        }
        // Left pending, not failed: reopening the runtime with the definition resumes it.
        const label = `${run.kind === "service" ? "service" : "workflow"} "${run.name}"`;
        if (!missingWarned.has(label)) {
          missingWarned.add(label);
          log.warn(`run ${run.id} is for ${label}, which this runtime does not have; it stays pending`);
        }
        return;
      }
      queued.add(run.id);
      ready.push(run.id);
      pump();
    },
    reserve(run) {
      if (closed || !has(definitions.current(run), run) || active + reserved >= maxConcurrent) return false;
      reserved++;
      return true;
    },
    release() {
      reserved--;
    },
    runLeased(activation) {
      reserved--;
      // Leased in the batch that committed while closing: it stays running in the database and is
      // recovered when the runtime opens again.
      if (closed) return;
      active++;
      // The slot was reserved when the lease was taken; the controller goes in before any await.
      const controller = register(activation.run.id);
      void runActivation(activation, controller)
        .then(() => unregister(activation.run.id, controller))
        .finally(settleSlot);
    },
    deliver(runId, opKey, outcome) {
      receivers.get(runId)?.(opKey, outcome);
    },
    abort(runId) {
      controllers.get(runId)?.abort(new VilanoError("cancelled", `run ${runId} was cancelled`));
    },
    close() {
      closed = true;
      const reason = new VilanoError("runtime_closed", "the runtime is closing");
      for (const controller of controllers.values()) controller.abort(reason);
      ready.length = 0;
      queued.clear();
    },
    idle() {
      if (active === 0 && ready.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
