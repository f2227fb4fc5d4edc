/**
 * `createRuntime()`: the whole kernel in this process, backed by a SQLite file or `:memory:`.
 * Reopening the same file resumes every unfinished run, including sleeping and waiting ones.
 * User code runs in this process by default; with `workers` it runs in worker processes.
 */
import { createLogger, systemClock, VilanoError, type Clock, type Duration, type Logger, type LogLevel } from "../shared/index.ts";
import type { AnyServiceDefinition, ConnectOptions, ServiceKeyInput, ServiceRef, WorkflowDefinition } from "../sdk/index.ts";
import { computeKey } from "../engine/index.ts";
import {
  createInProcessRunner,
  createRuntimeCore,
  describeDefinitions,
  fixedCatalog,
  indexDefinitions,
  requireService,
  serviceInfo,
  type RunInfo,
  type RunInspection,
} from "../core/index.ts";
import type { GroupCommitStats, RunStatus, ServiceStatus, SignalDelivery } from "../kernel/index.ts";
import type { SynchronousMode } from "../store/index.ts";

export interface RuntimeOptions {
  /** A SQLite file path, or `:memory:` (the default). */
  database?: string;
  /** The workflows this runtime can run. */
  definitions?: readonly unknown[];
  /** `FULL` (default) syncs every commit to disk; `NORMAL` may lose the last commits on power loss. */
  synchronous?: SynchronousMode;
  /** How many activations may run at once (default 512). */
  maxConcurrentActivations?: number;
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

export interface RunHandle<O = unknown> {
  readonly id: string;
  /** False when `start` found an existing run with the requested id. */
  readonly created: boolean;
  result(options?: ResultOptions): Promise<O>;
  status(): Promise<RunStatus>;
}

export interface Runtime {
  readonly database: string;
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
  list(filter?: { status?: RunStatus | ServiceStatus; workflow?: string; limit?: number }): Promise<RunInfo[]>;
  /** Commit statistics of the group-commit queue (for benchmarks). */
  readonly stats: GroupCommitStats;
  /** Stops running code and closes the database; unfinished runs resume when it is opened again. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const database = options.database ?? ":memory:";
  const definitions = indexDefinitions(options.definitions ?? []);
  const code = describeDefinitions([...definitions.workflows.values()], [...definitions.services.values()]);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(options.logLevel ?? "info");
  const core = createRuntimeCore({
    database,
    ...(options.synchronous ? { synchronous: options.synchronous } : {}),
    clock,
    logger,
    maxConcurrent: options.maxConcurrentActivations ?? 512,
    catalog: fixedCatalog(code),
    createRunner: (kernel) => createInProcessRunner({ kernel, definitions: () => definitions, clock, logger }),
  });

  const handle = <O>(runId: string, created = false): RunHandle<O> => ({
    id: runId,
    created,
    result: (o) => core.result(runId, o) as Promise<O>,
    status: async () => core.status(runId) as RunStatus,
  });

  const runtime: Runtime = {
    database,
    stats: core.stats,
    async start(workflow, input, startOptions = {}) {
      core.ensureOpen();
      const name = typeof workflow === "string" ? workflow : workflow?.name;
      if (typeof name !== "string" || !definitions.workflows.has(name)) {
        const known = [...definitions.workflows.keys()];
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
    status: async (runId) => core.status(runId) as RunStatus,
    signal: (runId, name, payload) => core.signal(runId, name, payload),
    cancel: (runId, o = {}) => core.cancel(runId, o.reason),
    inspect: async (runId) => core.inspect(runId),
    async connect(service, keyInput, connectOptions = {}) {
      core.ensureOpen();
      const definition = requireService(definitions, service);
      return core.connect({
        project: "",
        snapshotId: null,
        service: serviceInfo(code, definition.name)!,
        key: computeKey(definition, keyInput),
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
      });
    },
    close: () => core.close(),
    [Symbol.asyncDispose]: () => core.close(),
  };
  return runtime;
}
