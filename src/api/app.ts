/**
 * The control API (Hono): loopback Host and token on every route but `/health`, bodies capped
 * and JSON only, bodies and queries validated with valibot, one error envelope. Exported so a script can
 * mount it in its own server; its route types are what the typed client is built from.
 */
import { Hono } from "hono";
import { upgradeWebSocket } from "hono/bun";
import { parseDuration, VERSION, type Logger } from "../shared/index.ts";
import type { ApiBackend, WorkerConnection } from "./backend.ts";
import { jsonBody, limitBody, queryOf, requireJsonBody } from "./body.ts";
import { apiErrorHandler } from "./error-envelope.ts";
import * as schema from "./schemas.ts";
import { requireLoopbackHost, requireToken } from "./security.ts";
import { keepStreamAlive, streamInSlot, type StreamSlots } from "./sse.ts";

export interface ApiOptions {
  backend: ApiBackend;
  token: string;
  /** Largest accepted request body in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Longest a result long-poll may wait (default 30 s). */
  maxWaitMs?: number;
  /** How often a quiet event stream writes a comment to stay open (default SSE_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** The event streams the server keeps open at once, shared with the dashboard (default: uncounted). */
  streams?: StreamSlots;
  logger?: Logger;
}

export function createApiApp(options: ApiOptions) {
  const { backend } = options;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const maxWait = options.maxWaitMs ?? 30_000;

  const app = new Hono()
    .notFound((c) => c.json({ ok: false as const, error: { code: "not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404))
    .onError(apiErrorHandler((e) => options.logger?.error("unexpected API error:", e)))
    .use("*", requireLoopbackHost())
    .get("/health", (c) => c.json({ ok: true as const, version: VERSION, pid: process.pid }))
    .use("/v1/*", requireToken(options.token))
    .use("/v1/*", limitBody(maxBody))
    .use("/v1/*", requireJsonBody())
    // `vilano ui`: a one-time login link to the dashboard, on the origin this request came to.
    .post("/v1/ui/logins", (c) => {
      const { code, expiresAt } = backend.issueLoginCode();
      return c.json({ ok: true as const, url: `${new URL(c.req.url).origin}/ui/login?code=${encodeURIComponent(code)}`, expiresAt }, 201);
    })
    .get("/v1/status", async (c) => c.json({ ok: true as const, version: VERSION, pid: process.pid, ...(await backend.status()) }))
    .post("/v1/projects", jsonBody(schema.AddProjectBody, "project"), async (c) => {
      const { path, name } = c.req.valid("json");
      return c.json({ ok: true as const, project: await backend.addProject(path, name) }, 201);
    })
    .get("/v1/projects", async (c) => c.json({ ok: true as const, projects: await backend.listProjects() }))
    .get("/v1/projects/:name", async (c) => c.json({ ok: true as const, project: await backend.getProject(c.req.param("name")) }))
    .post("/v1/projects/:name/sync", async (c) => c.json({ ok: true as const, project: await backend.syncProject(c.req.param("name")) }))
    .delete("/v1/projects/:name", async (c) => {
      await backend.removeProject(c.req.param("name"));
      return c.json({ ok: true as const });
    })
    .post("/v1/runs", jsonBody(schema.StartRunBody, "run start"), async (c) => {
      const { target, input, id, wait } = c.req.valid("json");
      const started = await backend.startRun(target, input, id);
      const waitMs = wait === undefined ? 0 : Math.min(parseDuration(wait), maxWait);
      // With `wait`, the answer carries the run's output (or error) when it ends within the wait.
      const run = waitMs > 0 ? { ...(await backend.awaitRun(started.id, waitMs)), created: started.created } : started;
      return c.json({ ok: true as const, run }, started.created ? 201 : 200);
    })
    .get("/v1/runs", queryOf(schema.ListRunsQuery), async (c) => c.json({ ok: true as const, ...(await backend.listRuns(c.req.valid("query"))) }))
    .get("/v1/runs/:id", async (c) => c.json({ ok: true as const, ...(await backend.inspectRun(c.req.param("id"))) }))
    .get("/v1/runs/:id/result", queryOf(schema.ResultQuery), async (c) => {
      const { wait } = c.req.valid("query");
      const run = await backend.awaitRun(c.req.param("id"), Math.min(wait ?? 0, maxWait));
      return c.json({ ok: true as const, run });
    })
    .get("/v1/runs/:id/events", queryOf(schema.EventsQuery), async (c) => {
      const runId = c.req.param("id");
      const { after } = c.req.valid("query");
      await backend.runEvents(runId, Number.MAX_SAFE_INTEGER); // 404 before the stream starts
      return streamInSlot(c, options.streams, async (stream) => {
        // Writes go one after another: subprocess output is pushed while the timeline is read.
        let writing = Promise.resolve();
        const write = (message: { id?: string; event: string; data: string }) => (writing = writing.then(() => stream.writeSSE(message)).catch(() => {}));
        const stopWatching = backend.watchOutput(runId, (output) => void write({ event: "exec_output", data: JSON.stringify({ type: "exec_output", ...output }) }));
        const stopPinging = keepStreamAlive(stream, options.heartbeatMs);
        // New events are read when the kernel's change feed says the run has some (after their
        // commit), never by polling the store. `changed` is set before each read, so a commit that
        // lands while events are written is not missed.
        let changed = true;
        let wake: (() => void) | null = null;
        const stopChanges = backend.watchChanges((runIds) => {
          if (!runIds.has(runId)) return;
          changed = true;
          wake?.();
        });
        stream.onAbort(() => wake?.());
        try {
          let seq = after ?? 0;
          while (!stream.aborted) {
            changed = false;
            const { events, finished } = await backend.runEvents(runId, seq);
            for (const event of events) {
              await write({ id: String(event.seq), event: "run_event", data: JSON.stringify(event) });
              seq = event.seq;
            }
            if (finished && events.length === 0) break;
            // A finished run gets no more commits: read once more (its last events may have come
            // with the end) instead of waiting for a change that will not come.
            if (!changed && !finished) await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
          }
          await writing;
        } finally {
          stopChanges();
          stopWatching();
          stopPinging();
        }
      });
    })
    .post("/v1/runs/:id/cancel", jsonBody(schema.CancelBody, "cancel"), async (c) => {
      const { reason } = c.req.valid("json");
      return c.json({ ok: true as const, run: await backend.cancelRun(c.req.param("id"), reason) });
    })
    .post("/v1/runs/:id/signals", jsonBody(schema.SignalBody, "signal"), async (c) => {
      const { name, payload } = c.req.valid("json");
      return c.json({ ok: true as const, delivery: await backend.signalRun(c.req.param("id"), name, payload) });
    })
    // External workers (`vilano worker start`): the worker protocol over a WebSocket. The upgrade
    // passes the Host and token checks above like every other /v1 route.
    .get(
      "/v1/workers/connect",
      upgradeWebSocket(() => {
        let connection: WorkerConnection | undefined;
        return {
          onOpen: (_event, ws) => {
            connection = backend.connectWorker({ send: (text) => ws.send(text), close: () => ws.close() });
          },
          onMessage: (event) => connection?.receive(typeof event.data === "string" ? event.data : new TextDecoder().decode(event.data as ArrayBuffer)),
          onClose: () => connection?.closed(),
        };
      }),
    )
    .post("/v1/services/:project/:service/calls", jsonBody(schema.ServiceCallBody, "service call"), async (c) => {
      const b = c.req.valid("json");
      const target = `${c.req.param("project")}/${c.req.param("service")}`;
      const address = { ...(b.key !== undefined ? { key: b.key } : {}), ...(b.keyInput !== undefined ? { keyInput: b.keyInput } : {}) };
      const call = { kind: b.kind, handler: b.handler, payload: b.payload, ...(b.timeout !== undefined ? { timeout: b.timeout } : {}) };
      return c.json({ ok: true as const, ...(await backend.callService(target, address, call)) });
    })
    .post("/v1/services/:project/:service/instances", jsonBody(schema.EnsureServiceBody, "service instance"), async (c) => {
      const { keyInput, key } = c.req.valid("json");
      const { created, ...instance } = await backend.ensureService(`${c.req.param("project")}/${c.req.param("service")}`, keyInput, key);
      return c.json({ ok: true as const, instance, created }, created ? 201 : 200);
    })
    .post("/v1/services/:project/:service/stop", jsonBody(schema.StopServiceBody, "service stop"), async (c) => {
      const { key, reason } = c.req.valid("json");
      const target = `${c.req.param("project")}/${c.req.param("service")}`;
      return c.json({ ok: true as const, instance: await backend.stopService(target, key, reason) });
    });
  return app;
}

/** The app's type, for the typed client. */
export type ApiApp = ReturnType<typeof createApiApp>;

/** Bun's WebSocket handlers for the app's WebSocket routes: pass as `websocket` to `Bun.serve`. */
export { websocket } from "hono/bun";
