/**
 * Runs activations in this process: the fastest runner, with no isolation and no hard stop (a step
 * that blocks the event loop blocks everything here). The embedded runtime's default; the daemon
 * uses the worker pool.
 */
import { errorCodeOf, type Clock, type LiveOutcome, type Logger, type OpCommand } from "../shared/index.ts";
import { createLiveExecutions, DEFAULT_LIVE_EXECUTIONS, type ActivationHost, type ExecEnvironment, type WorkflowResume } from "../engine/index.ts";
import type { ActivationResult } from "../shared/index.ts";
import type { CaptureSink } from "./captures.ts";
import { refuseOverCap, type Activation, type Kernel } from "../kernel/index.ts";
import type { RunRow } from "../store/index.ts";
import type { Definitions } from "./definitions.ts";
import { runActivationCode } from "./run-activation.ts";
import { lazyWorkspace, removeWorkspace, type CodeWorkspace } from "./workspaces.ts";
import type { Runner } from "./runner.ts";

export function createInProcessRunner(options: {
  kernel: Kernel;
  /** The loaded definitions of a run's code (the scheduler leases only runs whose code is known). */
  definitions: (run: RunRow) => Definitions;
  clock: Clock;
  logger: Logger;
  /** The base environment of `ctx.exec` subprocesses (its `workspace` is used when `workspaces` is absent). */
  exec: ExecEnvironment;
  /** Where each activation works: its own directory, made when first needed and removed when it ends. */
  workspaces?: CodeWorkspace;
  /** Where their output goes besides the op's result (capture files, live watchers). */
  captures?: CaptureSink;
  /** How many suspended workflow executions to keep for a resume without replay (0: none). */
  liveExecutions?: number;
}): Runner {
  const { kernel, definitions, clock } = options;
  const log = options.logger.withTag("runner");
  const runLog = options.logger.withTag("run");
  /** Live activations that can take outcomes committed while their code runs. */
  const receivers = new Map<string, (opKey: string, outcome: LiveOutcome) => void>();
  let closed = false;
  const live = createLiveExecutions<WorkflowResume, ActivationResult>(options.liveExecutions ?? DEFAULT_LIVE_EXECUTIONS);

  /** Workspaces being removed: closing waits for them. */
  const removals = new Set<Promise<void>>();

  /** The activation's exec environment, and what to do with its directory when it ends. */
  function workspaceFor(runId: string, fence: number): { exec: ExecEnvironment; release(): void } {
    const workspaces = options.workspaces;
    if (!workspaces) return { exec: options.exec, release: () => {} };
    // Named and made only when code asks for it (most activations never do): a hash less per activation.
    let dir: string | undefined;
    const where = () => (dir ??= workspaces.activation(runId, fence));
    let made = false;
    let ensure: (() => void) | undefined;
    const exec: ExecEnvironment = {
      ...options.exec,
      get workspace() {
        return where();
      },
      ensureWorkspace: () => (ensure ??= lazyWorkspace(where(), null, (error) => log.warn(`run ${runId}: could not make its workspace ${where()}:`, error), () => (made = true)))(),
    };
    const release = () => {
      // Only this process makes it: nothing to remove when it was never made.
      if (!workspaces.removeAfter || !made) return;
      const removal = removeWorkspace(where())
        .catch((error) => log.warn(`run ${runId}: could not remove its workspace ${where()}:`, error))
        .finally(() => removals.delete(removal));
      removals.add(removal);
    };
    return { exec, release };
  }

  async function run(activation: Activation, signal: AbortSignal): Promise<void> {
    const { fence, run, ops, turn } = activation;
    const runId = run.id;
    const workspace = workspaceFor(runId, fence);
    let receiver: ((opKey: string, outcome: LiveOutcome) => void) | undefined;
    const host: ActivationHost = {
      // Refused here as in a worker, so a step's result over the cap fails that step's attempt alike.
      report: async (cmd: OpCommand) => {
        refuseOverCap(cmd, kernel.maxValueBytes);
        return await kernel.reportOp(runId, fence, cmd);
      },
      post: (cmd: OpCommand) => {
        kernel.reportOp(runId, fence, cmd).catch((error) => {
          if (!closed && errorCodeOf(error) !== "stale_lease") log.warn(`run ${runId}: could not record ${cmd.opKey}:`, error);
        });
      },
      now: clock.now,
      printLog: (id, message, fields) => (fields === undefined ? runLog.info(`${id} ${message}`) : runLog.info(`${id} ${message}`, fields)),
      signal,
      exec: workspace.exec,
      execOutput: (chunk) => options.captures?.output(runId, chunk),
      execArtifact: (file) => options.captures?.artifact(runId, file),
      receiveOutcomes: (deliver) => receivers.set(runId, (receiver = deliver)),
      sleepLate: (lateMs) => kernel.noteSleepLateness(lateMs),
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
      const result = await runActivationCode(definitions(run), "this runtime", { run, ops, turn }, host, live);
      // Only its own: a newer activation of the run (its lease undone and taken again) may have one.
      if (receiver !== undefined && receivers.get(runId) === receiver) receivers.delete(runId);
      if (result.type !== "aborted") await kernel.finishActivation(runId, fence, result);
    } catch (error) {
      const code = errorCodeOf(error);
      if (!closed && code !== "stale_lease" && code !== "runtime_closed") log.error(`run ${runId}: activation failed:`, error);
    } finally {
      workspace.release();
    }
  }

  return {
    run,
    deliver(runId, opKey, outcome) {
      receivers.get(runId)?.(opKey, outcome);
    },
    async close() {
      closed = true;
      await Promise.all([...removals]);
    },
    liveStats: () => ({ ...live.stats }),
    forget: (runId) => void live.take(runId),
  };
}
