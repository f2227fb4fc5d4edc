/**
 * `createRuntime()`: the whole kernel in this process, backed by a SQLite file or `:memory:`.
 * Reopening the same file resumes every unfinished run, including sleeping and waiting ones.
 * User code runs in this process by default; with `workers` it runs in worker processes.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createLogger, decodeRunCursor, loadConfig, runPage, systemClock, toOptionalJson, VilanoError, type Clock, type Duration, type Logger, type LogLevel } from "../shared/index.ts";
import { isServiceDefinition, type AnyServiceDefinition, type ConnectOptions, type ServiceKeyInput, type ServiceRef, type WorkflowDefinition } from "../sdk/index.ts";
import {
  codeWorkspace,
  computeKey,
  createInProcessRunner,
  createRuntimeCore,
  describeDefinitions,
  embeddedWorkspacesName,
  ensureWorkspacesBase,
  fixedCatalog,
  fixedWorkspace,
  indexDefinitions,
  removeWorkspace,
  requireService,
  serviceInfo,
  type CodeInfo,
  type CodeRef,
  type CodeWorkspace,
  type Definitions,
  type RunInfo,
  type RunInspection,
  type Runner,
  type DurabilityStats,
  type GroupCommitStats,
  type SignalDelivery,
  type SynchronousMode,
} from "../core/index.ts";
import { DEFAULT_PROJECT_CONFIG, MANIFEST_FILE, readProjectConfig, type ProjectConfig } from "../project/index.ts";
import { createWorkerPool, describeCode, workerEnvironment, type WorkerPool } from "../worker/index.ts";
import type { DaemonInfo, LiveExecutionStats, RunStatus, ServiceStatus } from "../shared/index.ts";

export interface RuntimeOptions {
  /** The largest value recorded (step result, output, payload, state), in bytes (default VILANO_MAX_VALUE_BYTES, or 4 MiB). */
  maxValueBytes?: number;
  /**
   * A SQLite file path, `:memory:` (the default), or a `postgres://` URL — which other runtimes and
   * daemons may share: each then runs its share of the runs (see docs/decisions.md).
   */
  database?: string;
  /** With a shared PostgreSQL database: how long this runtime's leases outlive its last heartbeat (default VILANO_DAEMON_LEASE, or 10 s). */
  daemonLeaseMs?: number;
  /** The workflows and services this runtime runs in this process. */
  definitions?: readonly unknown[];
  /**
   * Run user code in this many worker processes instead of this process (hard stop of blocking
   * steps, crash quarantine, a clean environment). Needs `project`: the folder whose
   * `vilano.manifest.json` declares the code, which only the workers import.
   */
  workers?: number;
  /** With `workers`: the project folder (a `vilano.manifest.json` and the sources). */
  project?: string;
  /**
   * One folder every activation works in (`ctx.exec`'s default `cwd`, `ctx.workspace`, and with
   * `workers` their working directory), never removed. Without it each activation gets a fresh
   * directory of its own, removed when the activation ends, under a folder of this runtime's
   * (`$TMPDIR/vilano-<uid>/embedded.<pid>.<random>`, or under VILANO_WORKSPACES) removed when it closes.
   */
  workspace?: string;
  /**
   * Keep each activation's directory after it ends, and their folder after `close()` (default: the
   * project's `keep_workspace` in `vilano.toml`, or false).
   */
  keepWorkspaces?: boolean;
  /** With `workers`: silence after which a stopped worker loses its leases (default: VILANO_WORKER_LEASE, or 5 s). */
  workerLeaseMs?: number;
  /** `FULL` (default) syncs every commit to disk; `NORMAL` may lose the last commits on power loss. */
  synchronous?: SynchronousMode;
  /** How many activations may run at once (default 512). */
  maxConcurrentActivations?: number;
  /**
   * How many suspended workflow executions each process keeps in memory so that a run's next
   * activation resumes it without a replay (default 2,000, some 15 KB each; 0 turns it off: every activation replays).
   */
  liveExecutions?: number;
  logLevel?: LogLevel;
  logger?: Logger;
  clock?: Clock;
}

export interface StartOptions {
  /** A run id / idempotency key: starting again with the same id returns the existing run. */
  id?: string;
}

export interface ResultOptions {
  /** Stop waiting after this long (the run goes on); throws `wait_timeout`. */
  timeout?: Duration;
}

export interface RunListFilter {
  status?: RunStatus | ServiceStatus;
  workflow?: string;
  /** Runs per page (default 100). */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface RunHandle<O = unknown> {
  readonly id: string;
  /** False when `start` found an existing run with the requested id. */
  readonly created: boolean;
  result(options?: ResultOptions): Promise<O>;
  status(): Promise<RunStatus>;
}

export interface Runtime {
  readonly database: string;
  /** On a PostgreSQL database: the daemons and runtimes sharing it, this one marked `self`; null on SQLite. */
  daemons(): Promise<DaemonInfo[] | null>;
  start<I, O>(workflow: WorkflowDefinition<I, O> | string, input?: I, options?: StartOptions): Promise<RunHandle<O>>;
  /** A handle for an existing run. */
  handle<O = unknown>(runId: string): RunHandle<O>;
  /** The run's output once it completes; throws `RunFailedError` if it failed or was cancelled. */
  result<O = unknown>(runId: string, options?: ResultOptions): Promise<O>;
  status(runId: string): Promise<RunStatus>;
  signal(runId: string, name: string, payload?: unknown): Promise<SignalDelivery>;
  cancel(runId: string, options?: { reason?: string }): Promise<RunInfo>;
  inspect(runId: string): Promise<RunInspection>;
  /** Creates (or finds) the instance of `service` for `keyInput` and returns a typed ref. */
  connect<D extends AnyServiceDefinition>(service: D, keyInput: ServiceKeyInput<D>, options?: ConnectOptions): Promise<ServiceRef<D>>;
  /** Stops a service instance: its backlog fails with `service_stopped` and new mail is refused. */
  stop(serviceRunId: string, options?: { reason?: string }): Promise<RunInfo>;
  /** Newest first (one page; `listPage` says where the next one starts). */
  list(filter?: RunListFilter): Promise<RunInfo[]>;
  /** A page of runs, newest first; pass its `nextCursor` as `cursor` for the next page. */
  listPage(filter?: RunListFilter): Promise<{ runs: RunInfo[]; nextCursor?: string }>;
  /** Commit statistics of the group-commit queue (for benchmarks). */
  readonly stats: GroupCommitStats;
  /** Commits that did not wait for the disk (asks' messages) and the log syncs that made them durable (for benchmarks). */
  readonly durability: DurabilityStats;
  /**
   * How suspended workflow executions kept in memory fared: `resumed` (woken without a replay),
   * `evicted` (dropped for room; their runs replayed), `stale` (out of date; replayed).
   */
  liveExecutions(): LiveExecutionStats;
  /** Stops running code and closes the database; unfinished runs resume when it is opened again. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The value cap: the option, checked like VILANO_MAX_VALUE_BYTES, or that variable. */
function valueLimit(option: number | undefined): number {
  if (option === undefined) return loadConfig().maxValueBytes;
  if (!Number.isInteger(option) || option < 1024 || option > 268_435_456) {
    throw new VilanoError("validation_failed", `maxValueBytes must be a whole number of bytes from 1024 to 268435456, got ${JSON.stringify(option)}`);
  }
  return option;
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const database = options.database ?? ":memory:";
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(options.logLevel ?? "info");
  const code = options.workers === undefined ? inProcessCode(options) : await workerCode(options, logger);
  let pool: WorkerPool | undefined;
  const core = await createRuntimeCore({
    database,
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
    clock,
    logger,
    maxConcurrent: options.maxConcurrentActivations ?? 512,
    maxValueBytes: valueLimit(options.maxValueBytes),
    daemonLeaseMs: options.daemonLeaseMs ?? loadConfig().daemonLeaseMs,
    catalog: fixedCatalog(code.info, code.ref),
    createRunner: (kernel): Runner => {
      const definitions = code.definitions;
      if (definitions) {
        return createInProcessRunner({
          kernel,
          definitions: () => definitions,
          clock,
          logger,
          exec: { workspace: code.workspaces.shared, baseEnv: code.env, maxValueBytes: kernel.maxValueBytes },
          workspaces: code.workspaces,
          ...(options.liveExecutions !== undefined ? { liveExecutions: options.liveExecutions } : {}),
        });
      }
      return (pool = createWorkerPool({
        kernel,
        catalog: fixedCatalog(code.info, code.ref),
        logger,
        size: options.workers!,
        workspaces: () => code.workspaces,
        environment: () => code.env,
        isolation: () => code.isolation,
        spares: () => code.spares,
        leaseTtlMs: options.workerLeaseMs ?? loadConfig().workerLeaseMs,
        ...(options.liveExecutions !== undefined ? { liveExecutions: options.liveExecutions } : {}),
      }));
    },
  }).catch((error: unknown) => removeWorkspacesAndThrow(code, error));
  const workflows = new Set(code.info.workflows);

  /** The key of an instance: computed here from a definition, or by the service's code in a worker. */
  async function keyOf(service: unknown, name: string, keyInput: unknown): Promise<string> {
    if (code.definitions) return computeKey(requireService(code.definitions, service), keyInput);
    return pool!.computeKey(code.ref!, name, toOptionalJson(keyInput, `the key input of service "${name}"`));
  }

  async function close(): Promise<void> {
    await core.close();
    // Its workers have exited and its activations ended: what is left in its own folder goes too.
    if (code.removeOnClose !== null) await removeWorkspace(code.removeOnClose);
  }

  const handle = <O>(runId: string, created = false): RunHandle<O> => ({
    id: runId,
    created,
    result: (o) => core.result(runId, o) as Promise<O>,
    status: async () => (await core.status(runId)) as RunStatus,
  });

  const runtime: Runtime = {
    database,
    stats: core.stats,
    durability: core.kernel.durability,
    liveExecutions: () => core.liveStats(),
    daemons: () => core.daemons(),
    async start(workflow, input, startOptions = {}) {
      core.ensureOpen();
      const name = typeof workflow === "string" ? workflow : workflow?.name;
      if (typeof name !== "string" || !workflows.has(name)) {
        const known = [...workflows];
        throw new VilanoError(
          "unknown_workflow",
          `workflow ${JSON.stringify(name)} is not registered with this runtime (registered: ${known.length ? known.join(", ") : "none"})`,
          { details: { workflow: name, registered: known } },
        );
      }
      const { run, created } = await core.start({ project: "", snapshotId: null, name, input, id: startOptions.id, label: `workflow "${name}"` });
      return handle(run.id, created);
    },
    handle: (runId) => handle(runId),
    result: (runId, o) => core.result(runId, o) as never,
    status: async (runId) => (await core.status(runId)) as RunStatus,
    signal: (runId, name, payload) => core.signal(runId, name, payload),
    cancel: (runId, o = {}) => core.cancel(runId, o.reason),
    inspect: async (runId) => core.inspect(runId),
    async connect(service, keyInput, connectOptions = {}) {
      core.ensureOpen();
      const name = isServiceDefinition(service) ? service.name : typeof service === "string" ? service : undefined;
      const info = name === undefined ? undefined : serviceInfo(code.info, name);
      if (!info) {
        const known = code.info.services.map((s) => s.name);
        throw new VilanoError(
          "unknown_service",
          `service ${JSON.stringify(name)} is not registered with this runtime (registered services: ${known.length ? known.join(", ") : "none"})`,
          { details: { service: name, registered: known } },
        );
      }
      return core.connect({
        project: "",
        snapshotId: null,
        service: info,
        key: await keyOf(service, info.name, keyInput),
        keyInput,
        mustExist: connectOptions.mustExist === true,
      });
    },
    stop: (serviceRunId, o = {}) => core.stop(serviceRunId, o.reason),
    async list(filter = {}) {
      return core.list({
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.workflow ? { name: filter.workflow } : {}),
        ...(filter.limit ? { limit: filter.limit } : {}),
        ...(filter.cursor ? { after: decodeRunCursor(filter.cursor) } : {}),
      });
    },
    async listPage(filter = {}) {
      const limit = filter.limit ?? 100;
      return runPage(await runtime.list({ ...filter, limit: limit + 1 }), limit);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return runtime;
}

interface EmbeddedCode {
  info: CodeInfo;
  /** Present when user code runs in this process. */
  definitions?: Definitions;
  /** Where workers import the code from. */
  ref: CodeRef | null;
  workspaces: CodeWorkspace;
  /** This runtime's own folder of workspaces, removed when it closes (null: nothing of its own, or kept). */
  removeOnClose: string | null;
  env: Record<string, string>;
  isolation: "pooled" | "fresh";
  /** Spare workers while others are blocked (the project's `vilano.toml`). */
  spares: { workers: number; afterMs: number };
}

function inProcessCode(options: RuntimeOptions): EmbeddedCode {
  if (options.project !== undefined) {
    throw new VilanoError("validation_failed", "`project` is for runtimes with `workers`; in this process, pass the definitions themselves (`definitions`)");
  }
  const definitions = indexDefinitions(options.definitions ?? []);
  return {
    info: describeDefinitions([...definitions.workflows.values()], [...definitions.services.values()]),
    definitions,
    ref: null,
    ...embeddedWorkspaces(options, DEFAULT_PROJECT_CONFIG),
    // Subprocesses get the same clean base as workers do, never this process's VILANO_* settings.
    env: workerEnvironment(loadConfig().environment, DEFAULT_PROJECT_CONFIG),
    isolation: "pooled",
    spares: { workers: DEFAULT_PROJECT_CONFIG.spareWorkers, afterMs: DEFAULT_PROJECT_CONFIG.spareAfterMs },
  };
}

/** Imports the project once in a worker of its own (with a time limit) to learn what it defines. */
async function workerCode(options: RuntimeOptions, logger: Logger): Promise<EmbeddedCode> {
  const workers = options.workers!;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new VilanoError("validation_failed", `workers must be a whole number from 1 to 256, got ${JSON.stringify(workers)}`);
  }
  if (options.definitions !== undefined) {
    throw new VilanoError("validation_failed", "with `workers`, code is imported by the workers from `project`; leave `definitions` out");
  }
  if (typeof options.project !== "string" || options.project === "") {
    throw new VilanoError("validation_failed", "`workers` needs `project`: the folder whose vilano.manifest.json declares the workflows and services");
  }
  const dir = resolve(options.project);
  if (!existsSync(join(dir, MANIFEST_FILE))) {
    throw new VilanoError("not_found", `${join(dir, MANIFEST_FILE)} is missing`, { hint: `create it with \`vilano init ${options.project}\`` });
  }
  const config = readProjectConfig(dir);
  if (config.user !== null) {
    // Refused rather than ignored: code the project meant to keep from this process's user would run as it.
    throw new VilanoError("validation_failed", `${join(dir, "vilano.toml")}: [worker] user is for the daemon (run as root); the embedded runtime runs workers as its own user`, {
      hint: "register the project with a daemon, or remove `user`",
    });
  }
  const ref: CodeRef = { id: `embedded@${dir}`, dir };
  const places = embeddedWorkspaces(options, config);
  const env = workerEnvironment(loadConfig().environment, config);
  mkdirSync(places.workspaces.shared, { recursive: true, mode: 0o700 });
  const info = await describeCode({ code: ref, env, cwd: places.workspaces.shared, logger, timeLimitMs: loadConfig().importTimeoutMs }).catch((error: unknown) =>
    removeWorkspacesAndThrow(places, error),
  );
  return { info, ref, ...places, env, isolation: config.isolation, spares: { workers: config.spareWorkers, afterMs: config.spareAfterMs } };
}

/** A runtime that fails to open leaves no folder of workspaces behind. */
async function removeWorkspacesAndThrow(places: Pick<EmbeddedCode, "removeOnClose">, error: unknown): Promise<never> {
  if (places.removeOnClose !== null) await removeWorkspace(places.removeOnClose).catch(() => undefined);
  throw error;
}

/** Where this runtime's activations work: the `workspace` option's one folder, or a fresh directory each under a folder of its own. */
function embeddedWorkspaces(options: RuntimeOptions, project: ProjectConfig): Pick<EmbeddedCode, "workspaces" | "removeOnClose"> {
  if (options.keepWorkspaces !== undefined && typeof options.keepWorkspaces !== "boolean") {
    throw new VilanoError("validation_failed", `keepWorkspaces must be true or false, got ${JSON.stringify(options.keepWorkspaces)}`);
  }
  if (options.workspace !== undefined) {
    if (typeof options.workspace !== "string" || options.workspace === "") throw new VilanoError("validation_failed", `workspace must be a folder's path, got ${JSON.stringify(options.workspace)}`);
    return { workspaces: fixedWorkspace(resolve(options.workspace)), removeOnClose: null };
  }
  const config = loadConfig();
  const keep = options.keepWorkspaces ?? project.keepWorkspace;
  // Made when first needed (most runtimes never run a subprocess); the base is checked now.
  const root = join(ensureWorkspacesBase(config.workspacesBase, config.workspacesBaseIsPrivate), embeddedWorkspacesName());
  return { workspaces: codeWorkspace(root, "embedded", { mode: project.workspace, keep }), removeOnClose: keep ? null : root };
}
