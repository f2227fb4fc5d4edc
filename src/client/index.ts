/**
 * @vilano/runtime/client — `createClient()`: a typed client for a running daemon's control API.
 * It finds the local daemon (daemon.json) and its token in the runtime home by itself.
 * @example
 * const vl = createClient();
 * const run = await vl.runs.start("my-agent/reviewCoordinator", { repoId: "r1", note: "hi" });
 * console.log(await vl.runs.result(run.id, { timeout: "30s" }));
 */
import { hc } from "hono/client";
import type { ApiApp } from "../api/index.ts";
import { homePaths, readDaemonInfo } from "../shared/home.ts";
import { formatDuration, loadConfig, parseDuration, RunFailedError, VilanoError, isErrorCode, type Duration, type FailureBody, type RunInspection } from "../shared/index.ts";
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

interface Envelope {
  ok: boolean;
  error?: { code: string; message: string; details?: unknown };
}

// Ids can hold "/" (service instances: svc:<project>/<service>:<key>); path parameters must be encoded.
const enc = (id: string) => encodeURIComponent(id);

/** Throws the API's error envelope as a VilanoError with the same code. */
async function unwrap<T>(response: { status: number; text(): Promise<string> }): Promise<T> {
  const text = await response.text();
  let body: Envelope & T;
  try {
    body = JSON.parse(text) as Envelope & T;
  } catch {
    throw new VilanoError("internal", `the daemon answered HTTP ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!body.ok) {
    const code = body.error && isErrorCode(body.error.code) ? body.error.code : "internal";
    throw new VilanoError(code, body.error?.message ?? `HTTP ${response.status}`, { details: body.error?.details });
  }
  return body;
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
  const headers = { "x-vilano-token": token, "content-type": "application/json" };
  const timeoutMs = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(options.timeout, "client timeout");
  const daemonUrl = baseUrl;
  /** Every request has a deadline; a daemon that is down or silent is a clear error, never a hang. */
  const timedFetch = async (input: string | URL | Request, init: RequestInit = {}, extraMs = 0): Promise<Response> => {
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs + extraMs) });
    } catch (error) {
      if ((error as Error)?.name === "TimeoutError") {
        throw new VilanoError(
          "daemon_unavailable",
          `the daemon at ${daemonUrl} did not answer within ${formatDuration(timeoutMs + extraMs)}: it is busy or stopped (a change asked for may or may not have been made)`,
          { hint: "check it with `vilano daemon status`" },
        );
      }
      throw new VilanoError("daemon_unavailable", `cannot reach the daemon at ${daemonUrl}: ${(error as Error)?.message ?? String(error)}`, {
        hint: "start it with `vilano daemon start`",
      });
    }
  };
  const api = hc<ApiApp>(baseUrl, { headers, fetch: (input: string | URL | Request, init?: RequestInit) => timedFetch(input, init) });
  // Bodies go in `init` (the routes read them themselves); `init.headers` would replace the token.
  const json = (body: unknown) => ({ init: { body: JSON.stringify(body) } });

  return {
    baseUrl,
    status: async () => unwrap<{ version: string; pid: number; projects: number; workers: { pids: number[]; stats: Record<string, number> } }>(await api.v1.status.$get()),
    projects: {
      /** `path` is resolved here: the daemon may run in another working directory. */
      add: async (path: string, name: string) =>
        (await unwrap<{ project: unknown }>(await api.v1.projects.$post(undefined, json({ path: resolve(path), name })))).project,
      list: async () => (await unwrap<{ projects: unknown[] }>(await api.v1.projects.$get())).projects,
      get: async (name: string) => (await unwrap<{ project: unknown }>(await api.v1.projects[":name"].$get({ param: { name: enc(name) } }))).project,
      sync: async (name: string) => (await unwrap<{ project: unknown }>(await api.v1.projects[":name"].sync.$post({ param: { name: enc(name) } }))).project,
      remove: async (name: string) => void (await unwrap(await api.v1.projects[":name"].$delete({ param: { name: enc(name) } }))),
    },
    services: {
      /** Sends, signals or asks an instance by key (or key input, which creates it). */
      call: async (
        target: string,
        body: { kind: "send" | "signal" | "ask"; handler: string; key?: string; keyInput?: unknown; payload?: unknown; timeout?: Duration },
      ) => {
        const [project, service] = target.split("/");
        return unwrap<{ serviceRunId: string; reply?: unknown }>(
          await api.v1.services[":project"][":service"].calls.$post({ param: { project: enc(project!), service: enc(service!) } }, json(body)),
        );
      },
      /** Creates or gets the instance of `<project>/<service>` for a key input. */
      ensure: async (target: string, keyInput: unknown) => {
        const [project, service] = target.split("/");
        return unwrap<{ instance: { id: string; status: string; key?: string }; created: boolean }>(
          await api.v1.services[":project"][":service"].instances.$post({ param: { project: enc(project!), service: enc(service!) } }, json({ keyInput })),
        );
      },
      stop: async (target: string, key: string, reason?: string) => {
        const [project, service] = target.split("/");
        return (
          await unwrap<{ instance: { id: string; status: string } }>(
            await api.v1.services[":project"][":service"].stop.$post(
              { param: { project: enc(project!), service: enc(service!) } },
              json({ key, ...(reason ? { reason } : {}) }),
            ),
          )
        ).instance;
      },
    },
    runs: {
      start: async (target: string, input?: unknown, opts: { id?: string } = {}) =>
        (await unwrap<{ run: { id: string; status: string; created: boolean } }>(await api.v1.runs.$post(undefined, json({ target, input, ...opts })))).run,
      /** The run with its ops, events, signals (and, for instances, queued mail and turns). */
      inspect: async (id: string) =>
        unwrap<RunInspection>(
          await api.v1.runs[":id"].$get({ param: { id: enc(id) } }),
        ),
      list: async (filter: { project?: string; status?: string; workflow?: string; kind?: "workflow" | "service"; limit?: number } = {}) => {
        const url = api.v1.runs.$url();
        for (const [k, v] of Object.entries(filter)) if (v !== undefined) url.searchParams.set(k, String(v));
        return (await unwrap<{ runs: { id: string; name: string; status: string; createdAt: number }[] }>(await timedFetch(url, { headers }))).runs;
      },
      /** The run's events as they are recorded (server-sent events), until the run has finished. */
      async *events(id: string, opts: { after?: number } = {}): AsyncGenerator<{ seq: number; type: string; at: number; [fact: string]: unknown }> {
        const url = api.v1.runs[":id"].events.$url({ param: { id: enc(id) } });
        if (opts.after !== undefined) url.searchParams.set("after", String(opts.after));
        // A stream lasts as long as the run: the deadline holds only until the daemon answers.
        const controller = new AbortController();
        const answered = setTimeout(() => controller.abort(), Math.min(timeoutMs, 2_147_483_647));
        let response: Response;
        try {
          response = await fetch(url, { headers, signal: controller.signal });
        } catch (error) {
          if (controller.signal.aborted) {
            throw new VilanoError("daemon_unavailable", `the daemon at ${daemonUrl} did not answer within ${formatDuration(timeoutMs)}: it is busy or stopped`, {
              hint: "check it with `vilano daemon status`",
            });
          }
          throw new VilanoError("daemon_unavailable", `cannot reach the daemon at ${daemonUrl}: ${(error as Error)?.message ?? String(error)}`);
        } finally {
          clearTimeout(answered);
        }
        if (!response.ok || !response.body) return void (await unwrap(response));
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
        (await unwrap<{ run: { id: string; status: string } }>(await api.v1.runs[":id"].cancel.$post({ param: { id: enc(id) } }, json(reason === undefined ? {} : { reason })))).run,
      signal: async (id: string, name: string, payload?: unknown) =>
        (await unwrap<{ delivery: { signalId: number; status: string } }>(await api.v1.runs[":id"].signals.$post({ param: { id: enc(id) } }, json({ name, payload })))).delivery,
      /** Waits (long-polling) for the run's output; throws RunFailedError if it failed or was cancelled. */
      async result(id: string, opts: { timeout?: Duration } = {}) {
        const deadline = opts.timeout === undefined ? Infinity : Date.now() + parseDuration(opts.timeout, "result timeout");
        for (;;) {
          const wait = String(Math.max(0, Math.min(25_000, deadline - Date.now())));
          // The long-poll's `wait` goes in the query string (the route reads it itself).
          const url = api.v1.runs[":id"].result.$url({ param: { id: enc(id) } });
          url.searchParams.set("wait", wait);
          const { run } = await unwrap<{ run: { status: string; output?: unknown; error?: FailureBody } }>(
            await timedFetch(url, { headers }, Number(wait)),
          );
          if (run.status === "completed") return run.output;
          if (run.status === "failed" || run.status === "cancelled") throw new RunFailedError(id, run.error!);
          if (Date.now() >= deadline) throw new VilanoError("wait_timeout", `run ${id} did not finish within ${opts.timeout}; it goes on running`);
        }
      },
    },
  };
}

export type VilanoClient = ReturnType<typeof createClient>;
