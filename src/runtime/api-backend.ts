/** The control API's backend, implemented over the daemon runtime. */
import type { ApiBackend } from "../api/index.ts";
import { toRunInfo } from "../core/index.ts";
import type { AskOptions } from "../sdk/index.ts";
import { decodeRunCursor, runPage, serviceInstanceId, VilanoError, type Duration } from "../shared/index.ts";

/** Runs on a page when a list does not say. */
const DEFAULT_PAGE = 100;
import type { DaemonRuntime } from "./daemon-runtime.ts";
import type { Sessions } from "../ui/index.ts";
import { parseTarget } from "./targets.ts";
import { isPostgresUrl, redactUrl } from "../store/index.ts";

/** How long the status waits for the database's answers before it reports the database as not answering. */
const STATUS_DATABASE_DEADLINE_MS = 3_000;

/** `read()`'s value, or why there is none: it failed, or did not answer within `ms`. */
async function readWithin<T>(ms: number, read: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; message: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<{ ok: false; message: string }>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, message: `the database did not answer within ${ms / 1000} s` }), ms);
  });
  const answered = read().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, message: (error as Error)?.message ?? String(error) }),
  );
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

type Callable = Record<string, (payload: unknown, options?: AskOptions) => Promise<unknown>>;

export function createApiBackend(daemon: DaemonRuntime, sessions: Sessions): ApiBackend {
  const { core, kernel, projects } = daemon;
  return {
    async status() {
      const workers = { pids: daemon.pool.pids(), external: daemon.pool.externalPids(), stats: { ...daemon.pool.stats } };
      const postgres = isPostgresUrl(daemon.database);
      const location = postgres ? redactUrl(daemon.database) : daemon.database;
      const read = await readWithin(STATUS_DATABASE_DEADLINE_MS, async () => ({
        projects: (await projects.list()).length,
        daemons: postgres ? ((await core.daemons()) ?? []) : undefined,
      }));
      if (!read.ok) {
        // The status still answers while the database is away (or silent): it says so, and what the store knows.
        const state = core.store.availability?.current();
        const unavailable = state && !state.available
          ? { message: state.message, since: new Date(state.since).toISOString(), retryAfterSeconds: state.retryAfterSeconds }
          : { message: read.message };
        return { projects: null, store: { kind: postgres ? ("postgres" as const) : ("sqlite" as const), location, available: false, unavailable }, workers };
      }
      const store = postgres
        ? { kind: "postgres" as const, location, available: true, daemons: read.value.daemons ?? [] }
        : { kind: "sqlite" as const, location, available: true };
      return { projects: read.value.projects, store, workers };
    },
    connectWorker: (link) => daemon.pool.attachExternal(link),
    addProject: (path, name) => projects.add(path, name),
    syncProject: (name) => projects.sync(name),
    listProjects: () => projects.list(),
    getProject: (name) => projects.get(name),
    removeProject: (name) => projects.remove(name),
    startRun: (target, input, id) => daemon.startRun(target, input, id === undefined ? {} : { id }),
    async listRuns(filter) {
      const limit = filter.limit ?? DEFAULT_PAGE;
      const runs = await core.list({
        ...(filter.project ? { project: filter.project } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.workflow ? { name: filter.workflow } : {}),
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(filter.cursor ? { after: decodeRunCursor(filter.cursor) } : {}),
        limit: limit + 1,
      });
      return runPage(runs, limit);
    },
    inspectRun: (runId) => daemon.inspect(runId),
    async awaitRun(runId, waitMs) {
      if (waitMs > 0) {
        // The wait reads the run (one that does not exist is refused there) and hands back the run
        // as it ended: no read before it or after it. Past the wait, the run as it is now.
        const ended = await kernel.waitForTerminal(runId, AbortSignal.timeout(waitMs)).catch((error: unknown) => {
          if ((error as { code?: unknown })?.code === "not_found") throw error;
          return undefined;
        });
        if (ended) return toRunInfo(ended);
      }
      return core.requireRun(runId);
    },
    cancelRun: (runId, reason) => daemon.cancel(runId, reason),
    runEvents: (runId, afterSeq) => core.events(runId, afterSeq),
    signalRun: (runId, name, payload) => daemon.signal(runId, name, payload),
    watchChanges: (listener) => kernel.onChange(listener),
    changeVersion: () => kernel.changeVersion(),
    issueLoginCode: () => sessions.issueLoginCode(),
    watchOutput: (runId, listener) => daemon.captures.watch(runId, ({ opKey, attempt, stream, text, at }) => listener({ opKey, attempt, stream, text, at })),
    async callService(target, address, call) {
      // A key input addresses (and creates) the instance; a key given beside it must be the one it gives.
      const ref = address.keyInput !== undefined ? await daemon.service(target, address.keyInput, address.key) : await daemon.serviceByKey(target, address.key!);
      const table = (call.kind === "ask" ? ref.ask : call.kind === "send" ? ref.send : ref.signal) as unknown as Callable;
      // Asked of the table's handlers only (its `has`): a name such as `__proto__` is no handler.
      const invoke = call.handler in table ? table[call.handler] : undefined;
      if (typeof invoke !== "function") {
        throw new VilanoError("validation_failed", `${target} has no ${call.kind} handler ${JSON.stringify(call.handler)}`);
      }
      const reply = await invoke(call.payload, call.timeout === undefined ? undefined : { timeout: call.timeout as Duration });
      return call.kind === "ask" ? { serviceRunId: ref.id, reply } : { serviceRunId: ref.id };
    },
    ensureService: (target, keyInput, expectedKey) => daemon.ensureService(target, keyInput, expectedKey),
    async stopService(target, key, reason) {
      const { project, name } = parseTarget(target, "service");
      await projects.row(project);
      return core.stop(serviceInstanceId(project, name, key), reason);
    },
  };
}
