/**
 * @vilano/runtime/client — `createClient()`: a typed client for a running daemon's control API.
 * It finds the local daemon (daemon.json) and its token in the runtime home by itself.
 * @example
 * const vl = createClient();
 * const run = await vl.runs.start("my-agent/reviewCoordinator", { repoId: "r1", note: "hi" });
 * console.log(await vl.runs.result(run.id, { timeout: "30s" }));
 */
import { hc, type ClientResponse } from "hono/client";
import type { ApiApp } from "../api/index.ts";
import { homePaths, readDaemonInfo } from "../shared/home.ts";
import { durationAsGiven, formatDuration, loadConfig, parseDuration, RunFailedError, VilanoError, isErrorCode, type Duration } from "../shared/index.ts";
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";

export interface ClientOptions {
  /** Runtime home to find the daemon in (default: VILANO_HOME or ~/.vilano). */
  home?: string;
  /** Base URL of the API (default: from daemon.json). */
  baseUrl?: string;
  token?: string;
  /** How long a request may go unanswered before it fails with `daemon_unavailable` (default 30 s). */
  timeout?: Duration;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export interface RunListOptions {
  project?: string;
  status?: string;
  workflow?: string;
  kind?: "workflow" | "service";
  /** Runs per page (1–9999; default 100). */
  limit?: number;
}
/** The longest a start waits for its run in one request (the daemon's own cap). */
const MAX_START_WAIT_MS = 30_000;
const MAX_TIMER_MS = 2_147_483_647;

interface Envelope {
  ok: boolean;
  error?: { code: string; message: string; details?: unknown };
}

/**
 * A path parameter, encoded: ids can hold "/" (service instances: svc:<project>/<service>:<key>).
 * An empty one is refused here: the typed client would drop it and call another route.
 */
function enc(value: string, what: string): string {
  if (typeof value !== "string" || value === "") throw new VilanoError("validation_failed", `${what} must be a non-empty string`);
  return encodeURIComponent(value);
}

/** The route's answer, typed by the route; the API's error envelope is thrown as a VilanoError with its code. */
async function unwrap<T>(response: ClientResponse<T>, daemonUrl: string): Promise<T> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    // The deadline also covers reading the answer.
    throw new VilanoError("daemon_unavailable", `the daemon at ${daemonUrl} stopped answering part way: ${(error as Error)?.message ?? String(error)}`, {
      hint: "check it with `vilano daemon status`",
    });
  }
  let body: Envelope;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    throw new VilanoError("internal", `the daemon answered HTTP ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!body.ok) {
    const code = body.error && isErrorCode(body.error.code) ? body.error.code : "internal";
    throw new VilanoError(code, body.error?.message ?? `HTTP ${response.status}`, { details: body.error?.details });
  }
  return body as T;
}

/** The daemon's health check at `baseUrl` (no token needed): its version and pid. */
export async function healthOf(baseUrl: string, timeoutMs = 1_000) {
  const res = await hc<ApiApp>(baseUrl).health.$get(undefined, { init: { signal: AbortSignal.timeout(timeoutMs) } });
  if (!res.ok) throw new VilanoError("daemon_unavailable", `the daemon at ${baseUrl} answered its health check with HTTP ${res.status}`);
  return res.json();
}

export function createClient(options: ClientOptions = {}) {
  const home = options.home ?? loadConfig().home;
  const paths = homePaths(home);
  let baseUrl = options.baseUrl;
  if (!baseUrl) {
    const info = readDaemonInfo(paths);
    if (!info) throw new VilanoError("not_found", `no vilano daemon is running for ${home}`, { hint: "start it with `vilano daemon start`" });
    baseUrl = `http://127.0.0.1:${info.port}`;
  }
  const token = options.token ?? (existsSync(paths.token) ? readFileSync(paths.token, "utf8").trim() : "");
  const timeoutMs = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(options.timeout, "client timeout");
  const daemonUrl = baseUrl;

  // Every request has a deadline; a daemon that is down or silent is a clear error, never a hang.
  const deadlines = new WeakMap<AbortSignal, number>();
  /** Per-request options: the request gives up after `ms` unanswered. */
  const within = (ms: number) => {
    const signal = AbortSignal.timeout(Math.min(ms, MAX_TIMER_MS));
    deadlines.set(signal, ms);
    return { init: { signal } };
  };
  const reach = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    try {
      return await fetch(input, init);
    } catch (error) {
      const ms = init.signal ? deadlines.get(init.signal) : undefined;
      if (ms !== undefined && init.signal?.aborted) {
        throw new VilanoError(
          "daemon_unavailable",
          `the daemon at ${daemonUrl} did not answer within ${formatDuration(ms)}: it is busy or stopped (a change asked for may or may not have been made)`,
          { hint: "check it with `vilano daemon status`" },
        );
      }
      throw new VilanoError("daemon_unavailable", `cannot reach the daemon at ${daemonUrl}: ${(error as Error)?.message ?? String(error)}`, {
        hint: "start it with `vilano daemon start`",
      });
    }
  };
  const api = hc<ApiApp>(baseUrl, { headers: { "x-vilano-token": token }, fetch: reach });
  const sooner = () => within(timeoutMs);
  const answer = <T>(response: ClientResponse<T>) => unwrap(response, daemonUrl);
  const listPage = async (filter: RunListOptions & { cursor?: string }) => {
    const { limit, ...rest } = filter;
    const query = { ...rest, ...(limit !== undefined ? { limit: String(limit) } : {}) };
    return answer(await api.v1.runs.$get({ query }, sooner()));
  };
  const service = (target: string) => {
    if (typeof target !== "string" || !/^[^/\s]+\/[^/\s]+$/.test(target)) {
      throw new VilanoError("validation_failed", `service ${JSON.stringify(target)} must be written <project>/<service>`);
    }
    const [project = "", name = ""] = target.split("/");
    return { param: { project: enc(project, "project"), service: enc(name, "service") } };
  };

  return {
    baseUrl,
    status: async () => answer(await api.v1.status.$get(undefined, sooner())),
    /** A one-time link that logs a browser in to the dashboard (valid once, for five minutes). */
    dashboardLogin: async () => {
      const { url, expiresAt } = await answer(await api.v1.ui.logins.$post(undefined, sooner()));
      return { url, expiresAt };
    },
    projects: {
      /** `path` is resolved here: the daemon may run in another working directory. */
      add: async (path: string, name: string) => (await answer(await api.v1.projects.$post({ json: { path: resolve(path), name } }, sooner()))).project,
      list: async () => (await answer(await api.v1.projects.$get(undefined, sooner()))).projects,
      get: async (name: string) => (await answer(await api.v1.projects[":name"].$get({ param: { name: enc(name, "project name") } }, sooner()))).project,
      sync: async (name: string) => (await answer(await api.v1.projects[":name"].sync.$post({ param: { name: enc(name, "project name") } }, sooner()))).project,
      remove: async (name: string) => void (await answer(await api.v1.projects[":name"].$delete({ param: { name: enc(name, "project name") } }, sooner()))),
    },
    services: {
      /**
       * Sends, signals or asks an instance by key, or by key input (which creates it; a key given too
       * must be the one it gives). An ask's `timeout` is waited on top of the request's deadline: the
       * daemon answers when it runs out (`ask_timeout`), and only silence past both is `daemon_unavailable`.
       */
      call: async (
        target: string,
        body: { kind: "send" | "signal" | "ask"; handler: string; key?: string; keyInput?: unknown; payload?: unknown; timeout?: Duration },
      ) => {
        const askMs = body.kind === "ask" && body.timeout !== undefined ? parseDuration(body.timeout, "ask timeout") : 0;
        return answer(await api.v1.services[":project"][":service"].calls.$post({ ...service(target), json: body }, within(timeoutMs + askMs)));
      },
      /** Creates or gets the instance of `<project>/<service>` for a key input; `opts.key`, when given, must be the key it gives. */
      ensure: async (target: string, keyInput: unknown, opts: { key?: string } = {}) =>
        answer(
          await api.v1.services[":project"][":service"].instances.$post(
            { ...service(target), json: { keyInput, ...(opts.key !== undefined ? { key: opts.key } : {}) } },
            sooner(),
          ),
        ),
      stop: async (target: string, key: string, reason?: string) =>
        (await answer(await api.v1.services[":project"][":service"].stop.$post({ ...service(target), json: { key, ...(reason ? { reason } : {}) } }, sooner())))
          .instance,
    },
    runs: {
      /**
       * Starts a run (the same `id` returns the same run). With `wait`, one request also waits for
       * it to end, up to the daemon's limit (30 s): the run comes back with its output or error
       * when it ended within the wait, and as it is then otherwise.
       */
      start: async (target: string, input?: unknown, opts: { id?: string; wait?: Duration } = {}) => {
        const waitMs = opts.wait === undefined ? 0 : Math.min(parseDuration(opts.wait, "wait"), MAX_START_WAIT_MS);
        const json = { target, input, ...(opts.id !== undefined ? { id: opts.id } : {}), ...(waitMs > 0 ? { wait: waitMs } : {}) };
        return (await answer(await api.v1.runs.$post({ json }, within(timeoutMs + waitMs)))).run;
      },
      /** The run with its ops, events, signals (and, for instances, queued mail and turns). */
      inspect: async (id: string) => answer(await api.v1.runs[":id"].$get({ param: { id: enc(id, "run id") } }, sooner())),
      /** The newest runs (one page; `listPage` for the following ones). */
      list: async (filter: RunListOptions = {}) => (await listPage(filter)).runs,
      /** A page of runs, newest first; pass its `nextCursor` as `cursor` for the next one. */
      listPage: (filter: RunListOptions & { cursor?: string } = {}) => listPage(filter),
      /** The run's events as they are recorded (server-sent events), until the run has finished. */
      async *events(id: string, opts: { after?: number } = {}): AsyncGenerator<{ seq: number; type: string; at: number; [fact: string]: unknown }> {
        const query = opts.after !== undefined ? { after: String(opts.after) } : {};
        // A stream lasts as long as the run: the deadline holds only until the daemon answers.
        const controller = new AbortController();
        deadlines.set(controller.signal, timeoutMs);
        const answered = setTimeout(() => controller.abort(), Math.min(timeoutMs, MAX_TIMER_MS));
        const response = await api.v1.runs[":id"].events
          .$get({ param: { id: enc(id, "run id") }, query }, { init: { signal: controller.signal } })
          .finally(() => clearTimeout(answered));
        if (!response.ok || !response.body) return void (await answer(response));
        const decoder = new TextDecoder();
        let buffer = "";
        for await (const chunk of response.body) {
          buffer += decoder.decode(chunk, { stream: true });
          let end: number;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const data = buffer
              .slice(0, end)
              .split("\n")
              .filter((line) => line.startsWith("data:"))
              .map((line) => line.slice(5).trimStart())
              .join("\n");
            buffer = buffer.slice(end + 2);
            if (data) yield JSON.parse(data);
          }
        }
      },
      cancel: async (id: string, reason?: string) =>
        (await answer(await api.v1.runs[":id"].cancel.$post({ param: { id: enc(id, "run id") }, json: reason === undefined ? {} : { reason } }, sooner()))).run,
      signal: async (id: string, name: string, payload?: unknown) =>
        (await answer(await api.v1.runs[":id"].signals.$post({ param: { id: enc(id, "run id") }, json: { name, payload } }, sooner()))).delivery,
      /** Waits (long-polling) for the run's output; throws RunFailedError if it failed or was cancelled. */
      async result(id: string, opts: { timeout?: Duration } = {}) {
        const deadline = opts.timeout === undefined ? Infinity : Date.now() + parseDuration(opts.timeout, "result timeout");
        for (;;) {
          const wait = Math.max(0, Math.min(25_000, deadline - Date.now()));
          const { run } = await answer(await api.v1.runs[":id"].result.$get({ param: { id: enc(id, "run id") }, query: { wait: String(wait) } }, within(timeoutMs + wait)));
          if (run.status === "completed") return run.output;
          if (run.status === "failed" || run.status === "cancelled") throw new RunFailedError(id, run.error!);
          if (Date.now() >= deadline) {
            throw new VilanoError("wait_timeout", `run ${id} did not finish within ${durationAsGiven(opts.timeout!)}; it goes on running`, { details: { runId: id } });
          }
        }
      },
    },
  };
}

export type VilanoClient = ReturnType<typeof createClient>;
