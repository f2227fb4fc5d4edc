/**
 * The daemon's core, without HTTP: the runtime core with runs addressed as `<project>/<workflow>`
 * and pinned to the project's snapshot, and service instances addressed by `<project>/<service>`
 * and key. The control API and the CLI are thin layers over this.
 */
import { existsSync, mkdirSync, realpathSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  codeWorkspace,
  createCaptureSink,
  createRuntimeCore,
  ensureWorkspacesBase,
  pruneEmptyWorkspaces,
  sweepLeftoverWorkspaces,
  serviceInfo,
  type CaptureSink,
  type CodeRef,
  type RunInfo,
  type RunInspection,
  type RuntimeCore,
  type WorkspaceSettings,
} from "../core/index.ts";
import type { Kernel, SignalDelivery } from "../kernel/index.ts";
import type { AnyServiceDefinition, ServiceRef } from "../sdk/index.ts";
import { armCrashPoints, createLogger, loadConfig, loadCrashPlan, serviceInstanceId, systemClock, toOptionalJson, VilanoError, workspacesRootFor, type Clock, type Config, type Duration, type Logger } from "../shared/index.ts";
import { createWorkerPool, workerEnvironment, type WorkerPool } from "../worker/index.ts";
import { DEFAULT_PROJECT_CONFIG, restoreSnapshot, type ProjectConfig } from "../project/index.ts";
import { createExecLedger } from "./exec-ledger.ts";
import { createInstanceRefs } from "./instance-refs.ts";
import { createProjectRegistry, type ProjectRegistry } from "./projects.ts";
import { createSnapshotCatalog } from "./snapshot-catalog.ts";
import { prepareUserPlaces } from "./worker-user-places.ts";
import { parseTarget } from "./targets.ts";

export interface DaemonRuntimeOptions {
  /** The runtime home: `runtime.sqlite`, `snapshots/` and `captures/` live here (workspaces never: see `workspaces`). */
  home: string;
  /** A `postgres://` URL, or a SQLite file (default: `runtime.sqlite` in the home). */
  database?: string;
  logger?: Logger;
  clock?: Clock;
  maxConcurrentActivations?: number;
  /** Worker processes per project snapshot (default: VILANO_WORKERS, or one per CPU and at least 2). */
  workers?: number;
  /** Silence after which a stopped worker loses its leases (default: VILANO_WORKER_LEASE, or 5 s). */
  workerLeaseMs?: number;
  /** How long registration lets a project's top-level code take (default: VILANO_IMPORT_TIMEOUT, or 10 s). */
  importTimeoutMs?: number;
  /** Silence past a timed step's deadline before its worker is killed (default 100 ms). */
  hardStopGraceMs?: number;
  /** The environment workers take their clean base and `pass_env` names from (default: this process's). */
  environment?: Readonly<Record<string, string>>;
}

export interface DaemonRuntime {
  /** The database it uses: a SQLite file, or a PostgreSQL URL. */
  readonly database: string;
  readonly projects: ProjectRegistry;
  readonly kernel: Kernel;
  readonly core: RuntimeCore;
  readonly pool: WorkerPool;
  /** Output of `ctx.exec` subprocesses: capture files under the home, and live watchers. */
  readonly captures: CaptureSink;
  startRun(target: string, input?: unknown, options?: { id?: string }): Promise<RunInfo & { created: boolean }>;
  result(runId: string, options?: { timeout?: Duration }): Promise<unknown>;
  inspect(runId: string): Promise<RunInspection>;
  signal(runId: string, name: string, payload?: unknown): Promise<SignalDelivery>;
  cancel(runId: string, reason?: string): Promise<RunInfo>;
  /**
   * A ref to the instance of `<project>/<service>` for `keyInput` (created if needed). With
   * `expectedKey`, a key input that gives another key is refused before anything is made.
   */
  service(target: string, keyInput: unknown, expectedKey?: string): Promise<ServiceRef<AnyServiceDefinition>>;
  /** A ref to an existing instance by its key, running the code of the snapshot it is pinned to. */
  serviceByKey(target: string, key: string): Promise<ServiceRef<AnyServiceDefinition>>;
  /** Creates or gets the instance for `keyInput`, saying which (`vilano service ensure`); `expectedKey` as for `service`. */
  ensureService(target: string, keyInput: unknown, expectedKey?: string): Promise<RunInfo & { created: boolean }>;
  /**
   * Starts a worker ahead of any code, for the first project it describes (worker/pool-standby.ts);
   * the daemon asks once it listens, so the worker's start does not delay its first answer.
   */
  startWorkerAhead(): void;
  close(): Promise<void>;
  /** `await using rt = await createDaemonRuntime(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createDaemonRuntime(options: DaemonRuntimeOptions): Promise<DaemonRuntime> {
  const logger = options.logger ?? createLogger("info");
  const clock = options.clock ?? systemClock;
  const config = loadConfig();
  armCrashPoints(loadCrashPlan());
  const snapshotsDir = join(options.home, "snapshots");
  let openedStore!: (store: RuntimeCore["store"]) => void;
  const storeOpened = new Promise<RuntimeCore["store"]>((resolve) => (openedStore = resolve));
  const workspacesRoot = daemonWorkspacesRoot(options.home, config, logger);
  const daemonEnv = options.environment ?? config.environment;
  // The code of project `p` (a snapshot `p@<id>`) works under `<root>/p`, as its vilano.toml says.
  const workspacesOf = (code: CodeRef) => codeWorkspace(workspacesRoot, code.id.slice(0, code.id.indexOf("@")), workspaceSettings(catalog.config(code)));
  const catalog = createSnapshotCatalog({
    snapshotsDir,
    // In a pooled worker of the code, kept for its first activation (worker/pool-describe.ts).
    describe: (code, timeLimitMs) => pool.describe(code, timeLimitMs),
    daemonEnv,
    importTimeoutMs: options.importTimeoutMs ?? config.importTimeoutMs,
    logger: logger.withTag("projects"),
    placesForUser: (project, snapshotId, snapshotDir, user) =>
      prepareUserPlaces(workspacesRoot, project, snapshotId, snapshotDir, user, (message) => logger.withTag("workers").warn(message)).codeDir,
    // Another daemon on this machine sharing the database keeps its snapshots beside the current one it
    // recorded; one on another machine stored the snapshot's files in the database, to make it here
    // from. Asked as soon as the kernel opens (a run claimed then), so it waits for the store.
    locate: async (project, snapshotId) => {
      const store = await storeOpened;
      const row = await store.reads.getProject(project);
      const beside = row ? join(dirname(row.snapshotDir), snapshotId) : null;
      if (beside !== null && existsSync(beside)) return beside;
      const stored = await store.shelf?.get(project, snapshotId);
      if (!stored) return beside;
      logger.withTag("projects").info(`making snapshot ${project}@${snapshotId} from the files stored in the database`);
      return restoreSnapshot(stored, snapshotsDir, project, snapshotId, row?.path ?? null);
    },
  });
  let pool!: WorkerPool;
  const execLedger = createExecLedger(join(options.home, "exec-groups.json"), logger.withTag("pool"));
  const captures = createCaptureSink(options.home, (error) => logger.warn("could not write an exec capture:", error));
  const core = await createRuntimeCore({
    database: options.database ?? join(options.home, "runtime.sqlite"),
    clock,
    logger,
    maxConcurrent: options.maxConcurrentActivations ?? 512,
    maxValueBytes: config.maxValueBytes,
    daemonLeaseMs: config.daemonLeaseMs,
    catalog,
    createRunner: (kernel) => {
      pool = createWorkerPool({
        kernel,
        catalog,
        logger,
        size: options.workers ?? config.workers,
        workspaces: workspacesOf,
        environment: catalog.environment,
        isolation: (code) => catalog.config(code).isolation,
        spares: (code) => {
          const config = catalog.config(code);
          return { workers: config.spareWorkers, afterMs: config.spareAfterMs };
        },
        user: catalog.user,
        leaseTtlMs: options.workerLeaseMs ?? config.workerLeaseMs,
        captures,
        execLedger,
        ...(options.hardStopGraceMs !== undefined ? { hardStopGraceMs: options.hardStopGraceMs } : {}),
      });
      return pool;
    },
    // Only once the database is ours (a second daemon on this home is refused first), and before any
    // run goes again: what a predecessor killed with -9 left running or on disk is nobody's now.
    beforeRecovery: async () => {
      execLedger.open();
      await sweepLeftoverWorkspaces(workspacesRoot).catch((error: unknown) => logger.warn(`could not remove the workspaces left in ${workspacesRoot}:`, error));
    },
  });
  openedStore(core.store);
  core.store.availability?.onChange((state) => {
    if (state.available) logger.withTag("store").info("the database is reachable again; writes are taken again");
    else logger.withTag("store").warn(`${state.message}; writes are refused (503) until it is back, and it is tried again with a growing wait`);
  });
  const { kernel } = core;
  const projects = createProjectRegistry(core.store.reads, kernel, snapshotsDir, catalog, core.store.shelf);
  const knownInstances = createInstanceRefs<ServiceRef<AnyServiceDefinition>>();

  async function close(): Promise<void> {
    await core.close();
    // Its workers are gone and their activations' directories removed: empty folders go as well.
    await pruneEmptyWorkspaces(workspacesRoot);
  }

  /** The current snapshot of a project and its code, loaded. */
  async function current(project: string) {
    const row = await projects.row(project);
    return { row, code: await catalog.ensure(project, row.snapshotId) };
  }

  const noSuch = (project: string, kind: "workflow" | "service", name: string, known: readonly string[]) =>
    new VilanoError(kind === "service" ? "unknown_service" : "unknown_workflow", `project ${project} has no ${kind} ${JSON.stringify(name)} (it has: ${known.join(", ") || "none"})`);

  /**
   * What connecting to `<project>/<service>` by key input takes: the service, and its key — computed
   * by a worker, from user code. A caller that also names the key (`--service-key K --key-json J`)
   * gets it checked here, before the instance is created.
   */
  async function instanceRequest(target: string, keyInput: unknown, expectedKey?: string) {
    const { project, name } = parseTarget(target, "service");
    const { row, code } = await current(project);
    const info = serviceInfo(code, name);
    if (!info) throw noSuch(project, "service", name, code.services.map((s) => s.name));
    const keyJson = toOptionalJson(keyInput, `the key input of ${target}`);
    const key = await pool.computeKey(catalog.codeOf(project, row.snapshotId), name, keyJson);
    if (expectedKey !== undefined && key !== expectedKey) {
      throw new VilanoError(
        "validation_failed",
        `${target}: the key input ${keyJson ?? "(none)"} gives the key ${JSON.stringify(key)}, not the key given (${JSON.stringify(expectedKey)})`,
      );
    }
    return { project, snapshotId: row.snapshotId, service: info, key, keyInput, mustExist: false };
  }

  return {
    database: options.database ?? join(options.home, "runtime.sqlite"),
    projects,
    kernel,
    core,
    pool,
    captures,
    async startRun(target, input, startOptions = {}) {
      const { project, name } = parseTarget(target, "workflow");
      const { row, code } = await current(project);
      if (!code.workflows.includes(name)) throw noSuch(project, "workflow", name, code.workflows);
      const { run, created } = await core.start({ project, snapshotId: row.snapshotId, name, input, id: startOptions.id, label: target });
      return { ...run, created };
    },
    result: (runId, o) => core.result(runId, o),
    startWorkerAhead: () => pool.startStandby(workerEnvironment(daemonEnv, DEFAULT_PROJECT_CONFIG), workspacesRoot),
    inspect: (runId) => core.inspect(runId),
    signal: (runId, name, payload) => core.signal(runId, name, payload),
    cancel: (runId, reason) => core.cancel(runId, reason),
    async service(target, keyInput, expectedKey) {
      const ref = await core.connect(await instanceRequest(target, keyInput, expectedKey));
      // It exists now: calls by its key need not look it up.
      knownInstances.remember(ref.id, ref);
      return ref;
    },
    async ensureService(target, keyInput, expectedKey) {
      const { run, created } = await core.ensureInstance(await instanceRequest(target, keyInput, expectedKey));
      return { ...run, created };
    },
    async serviceByKey(target, key) {
      const { project, name } = parseTarget(target, "service");
      // The project must still be registered (its row is kept in memory); the instance's ref need not be read again.
      await projects.row(project);
      const id = serviceInstanceId(project, name, key);
      const known = knownInstances.get(id);
      if (known) return known;
      const instance = await kernel.getRun(id);
      if (!instance) {
        throw new VilanoError("not_found", `${target} has no instance with key ${JSON.stringify(key)}`, {
          hint: "instances are created when a workflow connects to them, or by a call that gives the key input",
        });
      }
      const code = await catalog.ensure(project, instance.snapshotId!);
      const info = serviceInfo(code, name);
      if (!info) throw new VilanoError("unknown_service", `the snapshot of ${id} has no service ${JSON.stringify(name)}`);
      const ref = core.ref({ id, key }, info);
      knownInstances.remember(id, ref);
      return ref;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * Makes the folder of this home's workspaces — under VILANO_WORKSPACES or `$TMPDIR/vilano-<uid>`,
 * never inside the home — and says where it is.
 */
function daemonWorkspacesRoot(home: string, config: Config, logger: Logger): string {
  const field = config.workspacesBaseIsPrivate ? "TMPDIR" : "VILANO_WORKSPACES";
  const named = resolve(home);
  // The base is a real path: so is the home it is held against (a home reached through a link).
  const root = workspacesRootFor(ensureWorkspacesBase(config.workspacesBase, config.workspacesBaseIsPrivate), named, field, existsSync(named) ? realpathSync(named) : named);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  logger.withTag("workers").info(`activations work under ${root}`);
  return root;
}

const workspaceSettings = (config: ProjectConfig): WorkspaceSettings => ({ mode: config.workspace, keep: config.keepWorkspace });
