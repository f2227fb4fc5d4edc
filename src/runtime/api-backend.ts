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

type Callable = Record<string, (payload: unknown, options?: AskOptions) => Promise<unknown>>;

export function createApiBackend(daemon: DaemonRuntime, sessions: Sessions): ApiBackend {
  const { kernel, projects } = daemon;
  const runInfo = async (runId: string) => {
    const run = await kernel.getRun(runId);
    if (!run) throw new VilanoError("not_found", `run ${JSON.stringify(runId)} does not exist`, { details: { runId } });
    return toRunInfo(run);
  };
  return {
    status: async () => ({
      projects: (await projects.list()).length,
      store: isPostgresUrl(daemon.database)
        ? { kind: "postgres" as const, location: redactUrl(daemon.database), daemons: (await kernel.daemons()) ?? [] }
        : { kind: "sqlite" as const, location: daemon.database },
      workers: { pids: daemon.pool.pids(), external: daemon.pool.externalPids(), stats: { ...daemon.pool.stats } } }),
    connectWorker: (link) => daemon.pool.attachExternal(link),
    addProject: (path, name) => projects.add(path, name),
    syncProject: (name) => projects.sync(name),
    listProjects: () => projects.list(),
    getProject: (name) => projects.get(name),
    removeProject: (name) => projects.remove(name),
    startRun: (target, input, id) => daemon.startRun(target, input, id === undefined ? {} : { id }),
    async listRuns(filter) {
      const limit = filter.limit ?? DEFAULT_PAGE;
      const rows = await kernel.listRuns({
        ...(filter.project ? { project: filter.project } : {}),
        ...(filter.status ? { status: filter.status } : {}),
        ...(filter.workflow ? { name: filter.workflow } : {}),
        ...(filter.kind ? { kind: filter.kind } : {}),
        ...(filter.cursor ? { after: decodeRunCursor(filter.cursor) } : {}),
        limit: limit + 1,
      });
      return runPage(rows.map(toRunInfo), limit);
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
      return runInfo(runId);
    },
    cancelRun: (runId, reason) => daemon.cancel(runId, reason),
    runEvents: (runId, afterSeq) => daemon.core.events(runId, afterSeq),
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
      return toRunInfo(await kernel.stopInstance(serviceInstanceId(project, name, key), reason ?? "stopped by request"));
    },
  };
}
