/**
 * The daemon's core, without HTTP: the runtime core with runs addressed as `<project>/<workflow>`
 * and pinned to the project's snapshot, and service instances addressed by `<project>/<service>`
 * and key. The control API and the CLI are thin layers over this.
 */
import { join } from "node:path";
import { computeKey } from "../engine/index.ts";
import { createInProcessRunner, createRuntimeCore, serviceInfo, type RunInfo, type RunInspection, type RuntimeCore } from "../core/index.ts";
import type { Kernel, SignalDelivery } from "../kernel/index.ts";
import type { AnyServiceDefinition, ServiceRef } from "../sdk/index.ts";
import { createLogger, serviceInstanceId, systemClock, VilanoError, type Clock, type Duration, type Logger } from "../shared/index.ts";
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
  readonly core: RuntimeCore;
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
  const catalog = createSnapshotDefinitions(snapshotsDir, logger.withTag("projects"));
  const core = createRuntimeCore({
    database: join(options.home, "runtime.sqlite"),
    clock,
    logger,
    maxConcurrent: options.maxConcurrentActivations ?? 512,
    catalog,
    createRunner: (kernel) => createInProcessRunner({ kernel, definitions: catalog.definitions, clock, logger }),
  });
  const { kernel } = core;
  const projects = createProjectRegistry(core.store, snapshotsDir, catalog, clock.now);

  /** The current snapshot of a project and its code, loaded. */
  async function current(project: string) {
    const row = projects.row(project);
    return { row, ...(await catalog.ensure(project, row.snapshotId)) };
  }

  const noSuch = (project: string, kind: "workflow" | "service", name: string, known: readonly string[]) =>
    new VilanoError("unknown_workflow", `project ${project} has no ${kind} ${JSON.stringify(name)} (it has: ${known.join(", ") || "none"})`);

  return {
    projects,
    kernel,
    core,
    async startRun(target, input, startOptions = {}) {
      const { project, name } = parseTarget(target, "workflow");
      const { row, code } = await current(project);
      if (!code.workflows.includes(name)) throw noSuch(project, "workflow", name, code.workflows);
      const { run, created } = await core.start({ project, snapshotId: row.snapshotId, name, input, id: startOptions.id, label: target });
      return { ...run, created };
    },
    result: (runId, o) => core.result(runId, o),
    inspect: (runId) => core.inspect(runId),
    signal: (runId, name, payload) => core.signal(runId, name, payload),
    cancel: (runId, reason) => core.cancel(runId, reason),
    async service(target, keyInput) {
      const { project, name } = parseTarget(target, "service");
      const { row, code, definitions } = await current(project);
      const info = serviceInfo(code, name);
      const definition = definitions.services.get(name);
      if (!info || !definition) throw noSuch(project, "service", name, code.services.map((s) => s.name));
      const ref = await core.connect({ project, snapshotId: row.snapshotId, service: info, key: computeKey(definition, keyInput), keyInput, mustExist: false });
      if (ref.id !== serviceInstanceId(project, name, computeKey(definition, keyInput))) throw new VilanoError("internal", `instance id mismatch for ${target}`);
      return ref;
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
      const { code } = await catalog.ensure(project, instance.snapshotId!);
      const info = serviceInfo(code, name);
      if (!info) throw new VilanoError("unknown_workflow", `the snapshot of ${id} has no service ${JSON.stringify(name)}`);
      return core.ref(id, info);
    },
    close: () => core.close(),
  };
}
