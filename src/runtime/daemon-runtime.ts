/**
 * The daemon's core, without HTTP: store + kernel + executor, with runs addressed as
 * `<project>/<workflow>` and pinned to the project's snapshot, and service instances addressed
 * by `<project>/<service>` and key. The control API and the CLI are thin layers over this.
 */
import { join } from "node:path";
import { computeKey } from "../engine/index.ts";
import { createExternalRef, createInProcessExecutor, toInspection, toRunInfo, type RunInfo, type RunInspection } from "../embedded/index.ts";
import { createKernel, type Kernel, type SignalDelivery } from "../kernel/index.ts";
import type { AnyServiceDefinition, ServiceRef } from "../sdk/index.ts";
import {
  createLogger,
  isValidRunId,
  parseDuration,
  RunFailedError,
  serviceInstanceId,
  systemClock,
  toOptionalJson,
  VilanoError,
  type Clock,
  type Duration,
  type FailureBody,
  type Logger,
} from "../shared/index.ts";
import { createStore } from "../store/index.ts";
import { createProjectRegistry, type ProjectRegistry } from "./projects.ts";
import { createSnapshotDefinitions } from "./snapshot-definitions.ts";
import { parseTarget } from "./targets.ts";

export interface DaemonRuntimeOptions {
  /** The runtime home: `runtime.sqlite` and `snapshots/` live here. */
  home: string;
  logger?: Logger;
  clock?: Clock;
  maxConcurrentActivations?: number;
}

export interface DaemonRuntime {
  readonly projects: ProjectRegistry;
  readonly kernel: Kernel;
  startRun(target: string, input?: unknown, options?: { id?: string }): Promise<RunInfo & { created: boolean }>;
  result(runId: string, options?: { timeout?: Duration }): Promise<unknown>;
  inspect(runId: string): RunInspection;
  signal(runId: string, name: string, payload?: unknown): Promise<SignalDelivery>;
  cancel(runId: string, reason?: string): Promise<RunInfo>;
  /** A ref to the instance of `<project>/<service>` for `keyInput` (created if needed). */
  service(target: string, keyInput: unknown): Promise<ServiceRef<AnyServiceDefinition>>;
  /** A ref to an existing instance by its key, running the code of the snapshot it is pinned to. */
  serviceByKey(target: string, key: string): Promise<ServiceRef<AnyServiceDefinition>>;
  close(): Promise<void>;
}

export async function createDaemonRuntime(options: DaemonRuntimeOptions): Promise<DaemonRuntime> {
  const logger = options.logger ?? createLogger("info");
  const clock = options.clock ?? systemClock;
  const snapshotsDir = join(options.home, "snapshots");
  const store = createStore(join(options.home, "runtime.sqlite"));
  const kernel = createKernel({ store, clock, logger });
  const definitions = createSnapshotDefinitions(snapshotsDir, logger.withTag("projects"));
  const executor = createInProcessExecutor({ kernel, definitions, clock, logger, maxConcurrent: options.maxConcurrentActivations ?? 512 });
  try {
    kernel.open(executor);
  } catch (error) {
    store.close();
    throw error;
  }
  const projects = createProjectRegistry(store, snapshotsDir, definitions, clock.now);

  /** The current snapshot's definitions of a project, loaded. */
  async function current(project: string) {
    const row = projects.row(project);
    return { row, code: await definitions.ensure(project, row.snapshotId) };
  }

  const requireRun = (runId: string) => {
    const run = kernel.getRun(runId);
    if (!run) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
    return run;
  };

  return {
    projects,
    kernel,
    async startRun(target, input, startOptions = {}) {
      const { project, name } = parseTarget(target, "workflow");
      const { row, code } = await current(project);
      if (!code.workflows.has(name)) {
        const known = [...code.workflows.keys()];
        throw new VilanoError("unknown_workflow", `project ${project} has no workflow ${JSON.stringify(name)} (it has: ${known.join(", ") || "none"})`);
      }
      if (startOptions.id !== undefined && !isValidRunId(startOptions.id)) {
        throw new VilanoError("validation_failed", `invalid run id ${JSON.stringify(startOptions.id)}: use 1-200 letters, digits, "_", ".", ":" or "-"`);
      }
      const { run, created } = await kernel.startRun({
        project,
        snapshotId: row.snapshotId,
        name,
        input: toOptionalJson(input, `the input of ${target}`),
        ...(startOptions.id !== undefined ? { id: startOptions.id } : {}),
      });
      return { ...toRunInfo(run), created };
    },
    async result(runId, resultOptions = {}) {
      requireRun(runId);
      const signal = resultOptions.timeout === undefined ? undefined : AbortSignal.timeout(parseDuration(resultOptions.timeout, "result timeout"));
      const run = await kernel.waitForTerminal(runId, signal).catch((error: unknown) => {
        if (signal?.aborted && error === signal.reason) throw new VilanoError("wait_timeout", `run ${runId} did not finish within ${resultOptions.timeout}; it goes on running`);
        throw error;
      });
      if (run.status === "completed") return run.output === null ? undefined : JSON.parse(run.output);
      throw new RunFailedError(runId, JSON.parse(run.error!) as FailureBody);
    },
    inspect(runId) {
      const history = kernel.history(runId);
      if (!history) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
      return toInspection(history);
    },
    signal: (runId, name, payload) => kernel.signal(runId, name, toOptionalJson(payload, `the payload of signal "${name}"`)),
    cancel: async (runId, reason) => toRunInfo(await kernel.cancel(runId, reason)),
    async service(target, keyInput) {
      const { project, name } = parseTarget(target, "service");
      const { row, code } = await current(project);
      const definition = code.services.get(name);
      if (!definition) {
        const known = [...code.services.keys()];
        throw new VilanoError("unknown_workflow", `project ${project} has no service ${JSON.stringify(name)} (it has: ${known.join(", ") || "none"})`);
      }
      const key = computeKey(definition, keyInput);
      const { run } = await kernel.connect({
        project,
        snapshotId: row.snapshotId,
        service: name,
        key,
        keyInput: toOptionalJson(keyInput, `the key input of ${target}`),
        mustExist: false,
      });
      if (run.id !== serviceInstanceId(project, name, key)) throw new VilanoError("internal", `instance id mismatch for ${target}`);
      return createExternalRef(kernel, definition, run.id);
    },
    async serviceByKey(target, key) {
      const { project, name } = parseTarget(target, "service");
      projects.row(project);
      const id = serviceInstanceId(project, name, key);
      const instance = kernel.getRun(id);
      if (!instance) {
        throw new VilanoError("not_found", `${target} has no instance with key ${JSON.stringify(key)}`, {
          hint: "instances are created when a workflow connects to them, or by a call that gives the key input",
        });
      }
      const code = await definitions.ensure(project, instance.snapshotId!);
      const definition = code.services.get(name);
      if (!definition) throw new VilanoError("unknown_workflow", `the snapshot of ${id} has no service ${JSON.stringify(name)}`);
      return createExternalRef(kernel, definition, id);
    },
    async close() {
      executor.close();
      await Promise.race([executor.idle(), Bun.sleep(2_000)]);
      await kernel.close();
      store.close();
    },
  };
}
