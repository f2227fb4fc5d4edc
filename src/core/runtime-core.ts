/**
 * The one runtime core behind `createRuntime()` and the daemon: it assembles store + kernel +
 * scheduler + runner, and carries out what both offer (start, result, signal, cancel, inspect,
 * service refs, stop, close) with one set of checks and messages. The embedded runtime and the
 * daemon only add how they name things (definitions vs `<project>/<name>` targets).
 */
import {
  isLeased,
  durationAsGiven,
  isValidRunId,
  parseDuration,
  RunFailedError,
  runNotFound,
  serviceInstanceId,
  toOptionalJson,
  VilanoError,
  type Clock,
  type DaemonInfo,
  type Duration,
  type FailureBody,
  type Logger,
} from "../shared/index.ts";
import type { AnyServiceDefinition, ServiceRef } from "../sdk/index.ts";
import { createKernel, isTerminal, type GroupCommitStats, type Kernel, type RunStatus, type ServiceStatus, type SignalDelivery } from "../kernel/index.ts";
import { openStore, type RunListFilter, type RunRow, type Store, type SynchronousMode } from "../store/index.ts";
import type { Catalog, ServiceInfo } from "./catalog.ts";
import { createExternalRef } from "./external-ref.ts";
import { listDaemons, readRunHistory, toEventInfo, toInspection, toRunInfo, type EventInfo, type RunInfo, type RunInspection } from "./inspection.ts";
import type { Runner } from "./runner.ts";
import type { LiveExecutionStats, RefInstance } from "../engine/index.ts";
import { createScheduler } from "./scheduler.ts";

/** How long `close()` lets aborted activations end before it stops waiting for them. */
export const CLOSE_GRACE_MS = 2_000;

export interface RuntimeCoreOptions {
  /** A SQLite file path, `:memory:`, or a `postgres://` URL. */
  database: string;
  synchronous?: SynchronousMode;
  /** On PostgreSQL: how long this daemon's leases outlive its last heartbeat (VILANO_DAEMON_LEASE). */
  daemonLeaseMs?: number;
  clock: Clock;
  logger: Logger;
  /** How many activations may run at once. */
  maxConcurrent: number;
  /** The largest value recorded, in bytes (VILANO_MAX_VALUE_BYTES). */
  maxValueBytes: number;
  catalog: Catalog;
  /** Builds the runner once the kernel exists. */
  createRunner(kernel: Kernel): Runner;
  /**
   * The database is this process's now (a SQLite file's owner is claimed), and nothing of it runs
   * yet: put right what a predecessor killed with -9 left outside the database.
   */
  beforeRecovery?(): Promise<void>;
}

export interface StartRequest {
  project: string;
  snapshotId: string | null;
  name: string;
  input: unknown;
  id?: string | undefined;
  /** How errors name the workflow, e.g. `workflow "greet"` or `my-agent/greet`. */
  label: string;
}

export interface ConnectRequest {
  project: string;
  snapshotId: string | null;
  service: ServiceInfo;
  key: string;
  keyInput: unknown;
  mustExist: boolean;
}

export interface RuntimeCore {
  readonly kernel: Kernel;
  readonly store: Store;
  readonly stats: GroupCommitStats;
  /** How parked executions fared (resumed without a replay, evicted, out of date). */
  liveStats(): LiveExecutionStats;
  /** Throws `runtime_closed` once `close()` was called. */
  ensureOpen(): void;
  requireRun(runId: string): Promise<RunInfo>;
  start(req: StartRequest): Promise<{ run: RunInfo; created: boolean }>;
  /** The run's output once it completes; throws `RunFailedError` if it failed or was cancelled. */
  result(runId: string, options?: { timeout?: Duration }): Promise<unknown>;
  status(runId: string): Promise<RunStatus | ServiceStatus>;
  signal(runId: string, name: string, payload: unknown): Promise<SignalDelivery>;
  cancel(runId: string, reason?: string): Promise<RunInfo>;
  inspect(runId: string): Promise<RunInspection>;
  /** The run's events after `afterSeq`, and whether it has finished (no more will come). */
  events(runId: string, afterSeq: number): Promise<{ events: EventInfo[]; finished: boolean }>;
  list(filter?: RunListFilter): Promise<RunInfo[]>;
  /** Creates (or, with `mustExist`, only finds) an instance and returns a ref for scripts. */
  connect<D extends AnyServiceDefinition>(req: ConnectRequest): Promise<ServiceRef<D>>;
  /** Creates or gets the instance, saying which (`service ensure`). */
  ensureInstance(req: ConnectRequest): Promise<{ run: RunInfo; created: boolean }>;
  /** A ref for scripts to an instance by its id and key. */
  ref<D extends AnyServiceDefinition>(instance: RefInstance, service: ServiceInfo): ServiceRef<D>;
  stop(serviceRunId: string, reason?: string): Promise<RunInfo>;
  /** The daemons sharing the database (this one included), or null on a store of one daemon. */
  daemons(): Promise<DaemonInfo[] | null>;
  /** Stops running code and closes the database; idempotent. Unfinished runs resume on the next open. */
  close(): Promise<void>;
}

export async function createRuntimeCore(options: RuntimeCoreOptions): Promise<RuntimeCore> {
  const { clock, logger } = options;
  if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
    throw new VilanoError("validation_failed", `maxConcurrentActivations must be a whole number >= 1, got ${JSON.stringify(options.maxConcurrent)}`);
  }
  const store = await openStore(options.database, options.synchronous ? { synchronous: options.synchronous } : {});
  const kernel = createKernel({ store, clock, logger, maxValueBytes: options.maxValueBytes, leaseTtlMs: options.daemonLeaseMs });
  let runner: Runner;
  try {
    runner = options.createRunner(kernel);
  } catch (error) {
    await store.close();
    throw error;
  }
  const scheduler = createScheduler({ kernel, catalog: options.catalog, runner, logger, maxConcurrent: options.maxConcurrent });
  try {
    await kernel.open(scheduler, options.beforeRecovery);
  } catch (error) {
    await runner.close();
    await store.close();
    throw error;
  }
  let closed = false;
  let closing: Promise<void> | undefined;

  const ensureOpen = () => {
    if (closed) throw new VilanoError("runtime_closed", "the runtime is closed");
  };
  const requireRow = async (runId: string) => {
    ensureOpen();
    const row = await kernel.getRun(runId);
    if (!row) throw runNotFound(runId);
    return row;
  };

  async function connectInstance(req: ConnectRequest): Promise<{ run: RunRow; created: boolean }> {
    ensureOpen();
    // An instance that exists is only read (connect changes nothing for it): no commit for it.
    const existing = await kernel.getRun(serviceInstanceId(req.project, req.service.name, req.key));
    if (existing) return { run: existing, created: false };
    return kernel.connect({
      project: req.project,
      snapshotId: req.snapshotId,
      service: req.service.name,
      key: req.key,
      keyInput: toOptionalJson(req.keyInput, `the key input of service "${req.service.name}"`),
      mustExist: req.mustExist,
    });
  }

  return {
    kernel,
    store,
    stats: kernel.stats,
    liveStats: () => runner.liveStats(),
    ensureOpen,
    requireRun: async (runId) => toRunInfo(await requireRow(runId)),
    async start(req) {
      ensureOpen();
      if (req.id !== undefined && (typeof req.id !== "string" || !isValidRunId(req.id))) {
        throw new VilanoError(
          "validation_failed",
          `invalid run id ${JSON.stringify(req.id)}: use 1-200 letters, digits, "_", ".", ":" or "-", starting with a letter or digit`,
        );
      }
      const { run, created } = await kernel.startRun({
        project: req.project,
        snapshotId: req.snapshotId,
        name: req.name,
        input: toOptionalJson(req.input, `the input of ${req.label}`),
        ...(req.id !== undefined ? { id: req.id } : {}),
      });
      return { run: toRunInfo(run), created };
    },
    async result(runId, resultOptions = {}) {
      ensureOpen(); // a run that does not exist is refused by the wait itself
      const timeoutMs = resultOptions.timeout === undefined ? undefined : parseDuration(resultOptions.timeout, "result timeout");
      const signal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
      let row;
      try {
        row = await kernel.waitForTerminal(runId, signal);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) {
          throw new VilanoError("wait_timeout", `run ${runId} did not finish within ${durationAsGiven(resultOptions.timeout!)}; it goes on running`, { details: { runId } });
        }
        throw error;
      }
      if (row.status === "completed") return row.output === null ? undefined : JSON.parse(row.output);
      throw new RunFailedError(runId, JSON.parse(row.error!) as FailureBody);
    },
    status: async (runId) => (await requireRow(runId)).status as RunStatus | ServiceStatus,
    async signal(runId, name, payload) {
      ensureOpen();
      if (typeof name !== "string" || name === "") {
        throw new VilanoError("validation_failed", `a signal needs a non-empty name, got ${JSON.stringify(name)}`);
      }
      return kernel.signal(runId, name, toOptionalJson(payload, `the payload of signal "${name}"`));
    },
    async cancel(runId, reason) {
      ensureOpen();
      return toRunInfo(await kernel.cancel(runId, reason));
    },
    async events(runId, afterSeq) {
      ensureOpen();
      const run = await requireRow(runId);
      return { events: (await kernel.reads.listEvents(runId, afterSeq)).map(toEventInfo), finished: isTerminal(run.status) };
    },
    async inspect(runId) {
      ensureOpen();
      const history = await readRunHistory(store.reads, runId);
      if (!history) throw runNotFound(runId);
      const inspection = toInspection(history);
      // Only a run whose activation is out now is on a worker; what the pool says is as of this read.
      const place = isLeased(history.run.status) ? runner.placeOf?.(runId) : undefined;
      if (place) inspection.worker = place;
      return inspection;
    },
    async list(filter = {}) {
      ensureOpen();
      return (await kernel.listRuns(filter)).map(toRunInfo);
    },
    async connect<D extends AnyServiceDefinition>(req: ConnectRequest) {
      const { run } = await connectInstance(req);
      return createExternalRef<D>(kernel, req.service, { id: run.id, key: req.key });
    },
    async ensureInstance(req: ConnectRequest) {
      const { run, created } = await connectInstance(req);
      return { run: toRunInfo(run), created };
    },
    ref: (instance, service) => createExternalRef(kernel, service, instance),
    async stop(serviceRunId, reason) {
      ensureOpen();
      return toRunInfo(await kernel.stopInstance(serviceRunId, reason ?? "stopped by request"));
    },
    daemons: () => listDaemons(store),
    close() {
      closing ??= (async () => {
        closed = true;
        scheduler.close();
        // Aborted activations end quickly (their steps see the abort); don't wait on stuck code forever.
        await Promise.race([scheduler.idle(), Bun.sleep(CLOSE_GRACE_MS)]);
        await runner.close();
        await kernel.close();
        await store.close();
      })();
      return closing;
    },
  };
}
