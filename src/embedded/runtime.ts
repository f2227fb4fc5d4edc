/**
 * `createRuntime()`: the whole kernel in this process, backed by a SQLite file or `:memory:`.
 * Reopening the same file resumes every unfinished run, including sleeping and waiting ones.
 */
import {
  toJson,
  createLogger,
  isValidRunId,
  parseDuration,
  RunFailedError,
  systemClock,
  toOptionalJson,
  VilanoError,
  type Clock,
  type Duration,
  type FailureBody,
  type Logger,
  type LogLevel,
} from "../shared/index.ts";
import type { AnyServiceDefinition, ConnectOptions, ServiceKeyInput, ServiceRef, WorkflowDefinition } from "../sdk/index.ts";
import { computeKey } from "../engine/index.ts";
import { indexDefinitions, requireService } from "./definitions.ts";
import { createExternalRef } from "./external-ref.ts";
import { createKernel, type GroupCommitStats, type RunStatus, type ServiceStatus, type SignalDelivery } from "../kernel/index.ts";
import { createStore, type SynchronousMode } from "../store/index.ts";
import { createInProcessExecutor, fixedDefinitions } from "./in-process-executor.ts";
import { toInspection, toRunInfo, type RunInfo, type RunInspection } from "./inspection.ts";

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
}

const CLOSE_GRACE_MS = 2_000;

export async function createRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const database = options.database ?? ":memory:";
  const maxConcurrent = options.maxConcurrentActivations ?? 512;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new VilanoError("validation_failed", `maxConcurrentActivations must be a whole number >= 1, got ${JSON.stringify(options.maxConcurrentActivations)}`);
  }
  const definitions = indexDefinitions(options.definitions ?? []);
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createLogger(options.logLevel ?? "info");
  const store = createStore(database, options.synchronous ? { synchronous: options.synchronous } : {});
  const kernel = createKernel({ store, clock, logger });
  const executor = createInProcessExecutor({
    kernel,
    definitions: fixedDefinitions(definitions),
    clock,
    logger,
    maxConcurrent,
  });
  try {
    kernel.open(executor);
  } catch (error) {
    store.close();
    throw error;
  }
  let closed = false;
  let closing: Promise<void> | undefined;

  const ensureOpen = () => {
    if (closed) throw new VilanoError("runtime_closed", "the runtime is closed");
  };
  const requireRun = (runId: string) => {
    const row = kernel.getRun(runId);
    if (!row) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
    return row;
  };

  async function result<O>(runId: string, resultOptions: ResultOptions = {}): Promise<O> {
    ensureOpen();
    const timeoutMs = resultOptions.timeout === undefined ? undefined : parseDuration(resultOptions.timeout, "result timeout");
    const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
    let row;
    try {
      row = await kernel.waitForTerminal(runId, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) {
        throw new VilanoError("wait_timeout", `run ${runId} did not finish within ${resultOptions.timeout}; it goes on running`, {
          details: { runId },
        });
      }
      throw error;
    }
    if (row.status === "completed") return (row.output === null ? undefined : JSON.parse(row.output)) as O;
    throw new RunFailedError(runId, JSON.parse(row.error!) as FailureBody);
  }

  const handle = <O>(runId: string, created = false): RunHandle<O> => ({
    id: runId,
    created,
    result: (o) => result<O>(runId, o),
    status: async () => {
      ensureOpen();
      return requireRun(runId).status as RunStatus;
    },
  });

  return {
    database,
    stats: kernel.stats,
    async start(workflow, input, startOptions = {}) {
      ensureOpen();
      const name = typeof workflow === "string" ? workflow : workflow?.name;
      if (typeof name !== "string" || !definitions.workflows.has(name)) {
        const known = [...definitions.workflows.keys()];
        throw new VilanoError(
          "unknown_workflow",
          `workflow ${JSON.stringify(name)} is not registered with this runtime (registered: ${known.length ? known.join(", ") : "none"})`,
          { details: { workflow: name, registered: known } },
        );
      }
      if (startOptions.id !== undefined && (typeof startOptions.id !== "string" || !isValidRunId(startOptions.id))) {
        throw new VilanoError(
          "validation_failed",
          `invalid run id ${JSON.stringify(startOptions.id)}: use 1-200 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
        );
      }
      const inputJson = toOptionalJson(input, `the input of workflow "${name}"`);
      const { run, created } = await kernel.startRun({ name, input: inputJson, ...(startOptions.id ? { id: startOptions.id } : {}) });
      return handle(run.id, created);
    },
    handle: (runId) => handle(runId),
    result,
    async status(runId) {
      ensureOpen();
      return requireRun(runId).status as RunStatus;
    },
    async signal(runId, name, payload) {
      ensureOpen();
      if (typeof name !== "string" || name === "") {
        throw new VilanoError("validation_failed", `a signal needs a non-empty name, got ${JSON.stringify(name)}`);
      }
      return kernel.signal(runId, name, toOptionalJson(payload, `the payload of signal "${name}"`));
    },
    async cancel(runId, cancelOptions = {}) {
      ensureOpen();
      return toRunInfo(await kernel.cancel(runId, cancelOptions.reason));
    },
    async inspect(runId) {
      ensureOpen();
      const history = kernel.history(runId);
      if (!history) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
      return toInspection(history);
    },
    async connect(service, keyInput, connectOptions = {}) {
      ensureOpen();
      const definition = requireService(definitions, service);
      const key = computeKey(definition, keyInput);
      const { run } = await kernel.connect({
        project: "",
        snapshotId: null,
        service: definition.name,
        key,
        keyInput: toJson(keyInput, `the key input of service "${definition.name}"`),
        mustExist: connectOptions.mustExist === true,
      });
      return createExternalRef(kernel, service, run.id);
    },
    async stop(serviceRunId, stopOptions = {}) {
      ensureOpen();
      return toRunInfo(await kernel.stopInstance(serviceRunId, stopOptions.reason ?? "stopped by request"));
    },
    async list(filter = {}) {
      ensureOpen();
      return kernel
        .listRuns({
          ...(filter.status ? { status: filter.status } : {}),
          ...(filter.workflow ? { name: filter.workflow } : {}),
          ...(filter.limit ? { limit: filter.limit } : {}),
        })
        .map(toRunInfo);
    },
    close() {
      closing ??= (async () => {
        closed = true;
        executor.close();
        // Aborted activations end quickly (their steps see the abort); don't wait on stuck code forever.
        await Promise.race([executor.idle(), Bun.sleep(CLOSE_GRACE_MS)]);
        await kernel.close();
        store.close();
      })();
      return closing;
    },
  };
}
