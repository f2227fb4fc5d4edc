/**
 * The web dashboard, served by the daemon under `/ui` from the same executable: server-rendered
 * pages (Hono's JSX), one style sheet and one small script, all inside the binary. Access is by
 * session cookie only (from a one-time login code that `vilano ui` asks the daemon for); the JSON
 * API keeps requiring the token and never accepts the cookie. Every POST checks Origin and the
 * session's CSRF token; pages go live through a server-sent event stream fed by the kernel's
 * change feed (after commit), never by polling the store.
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { getCookie, setCookie } from "hono/cookie";
import { secureHeaders } from "hono/secure-headers";
import * as v from "valibot";
import { apiSchemas, keepStreamAlive, requireLoopbackHost, sameSecret, streamInSlot, type ApiBackend, type StreamSlots } from "../api/index.ts";
import { isListedStatus, isService, VilanoError, type Logger } from "../shared/index.ts";
import { LIVE_SCRIPT, STYLE } from "./assets.ts";
import { runHref, UI_BASE } from "./layout.tsx";
import { LoginPage, ProblemPage } from "./pages/login.tsx";
import { ProjectPage, ProjectsPage, type StartForm } from "./pages/projects.tsx";
import { RunDetails, RunPage, type RunForm } from "./pages/run.tsx";
import { RUN_STATUSES, RunsPage, RunsTable, type RunsFilter } from "./pages/runs.tsx";
import { InstancesTable, ServicesPage, type InstancesFilter } from "./pages/services.tsx";
import { SESSION_TTL_MS, type Session, type Sessions } from "./sessions.ts";

export interface DashboardOptions {
  backend: ApiBackend;
  sessions: Sessions;
  now?: () => number;
  /** Where unexpected errors (a page answered 500) are told. */
  logger?: Logger;
  /** How often a quiet live stream writes a comment to stay open (default SSE_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** The event streams the server keeps open at once, shared with the API (default: uncounted). */
  streams?: StreamSlots;
}

/**
 * The session cookie's name carries the daemon's port: cookies are not kept apart by port, so two
 * daemons on one machine (two homes) would otherwise log each other's browser out.
 */
export const sessionCookieName = (url: string) => `vilano_session_${new URL(url).port || "80"}`;
const PAGE_SIZE = 50;
/** Live pages hear at most this often, however fast commits come. */
const LIVE_THROTTLE_MS = 150;
const PARTIAL_HEADER = "x-vilano-partial";

type Env = { Variables: { session: Session } };

const statusOf = (error: unknown): number => (error instanceof VilanoError ? error.httpStatus : 500);
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A form field as a string ("" when absent or a file). */
const field = (form: Record<string, unknown>, name: string): string => (typeof form[name] === "string" ? (form[name] as string) : "");

/** JSON typed in a form: nothing typed is no value; anything else must parse. */
function parseJsonField(text: string, what: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error: `${what} is not valid JSON: ${messageOf(error)}` };
  }
}

function firstIssue(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0]!;
  const path = issue.path?.map((p) => String(p.key)).join(".");
  return `${path ? `${path} ` : ""}${issue.message}`;
}

export function createDashboard(options: DashboardOptions) {
  const { backend, sessions } = options;
  const now = options.now ?? Date.now;

  const page = (c: Context, node: unknown, status = 200) => c.html(`<!doctype html>${String(node)}`, status as 200);
  const partial = (c: Context) => c.req.header(PARTIAL_HEADER) === "1";
  /** `?all=1`: a long run's page with every op and event, not only the latest (slower to draw). */
  const showAll = (c: Context) => c.req.query("all") === "1";
  const problem = (c: Context, error: unknown) => {
    const status = statusOf(error);
    if (status >= 500) options.logger?.error(`unexpected dashboard error on ${c.req.method} ${c.req.path}:`, error);
    return page(c, <ProblemPage title={status === 404 ? "Not found" : "Something went wrong"} message={messageOf(error)} />, status);
  };

  /**
   * The stream a live page listens to, from the feed's version now: call it before reading what the
   * page shows, so whatever commits before the browser subscribes is still heard.
   */
  const liveUrl = (runId?: string) => {
    const since = `since=${backend.changeVersion()}`;
    return runId === undefined ? `${UI_BASE}/live?${since}` : `${UI_BASE}/live?run=${encodeURIComponent(runId)}&${since}`;
  };

  /** A run's page for this session; with `form.error`, the answer to a refused action (400). */
  const runPage = async (c: Context<Env>, id: string, form: RunForm, status = 200) => {
    const live = liveUrl(id);
    return page(c, <RunPage inspection={await backend.inspectRun(id)} now={now()} csrf={c.get("session").csrf} form={form} liveUrl={live} all={showAll(c)} />, status);
  };

  // Not strict: `/ui/` and `/ui/runs/` are the pages without the slash.
  const app = new Hono<Env>({ strict: false })
    .basePath(UI_BASE)
    .use("*", requireLoopbackHost())
    .use(
      "*",
      secureHeaders({
        contentSecurityPolicy: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", "data:"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
        // Not no-referrer: with it, Chromium sends `Origin: null` on form posts, and Origin is what they are checked by.
        referrerPolicy: "same-origin",
        // Plain HTTP on a loopback address: there is no HTTPS to insist on.
        strictTransportSecurity: false,
        xFrameOptions: "DENY",
        crossOriginResourcePolicy: "same-origin",
      }),
    )
    .use("*", async (c, next) => {
      await next();
      if (!c.res.headers.has("cache-control")) c.header("Cache-Control", "no-store");
    })
    .onError((error, c) => problem(c, error))
    .notFound((c) => page(c, <ProblemPage title="Not found" message={`no page ${c.req.path}`} />, 404))
    .get("/assets/app.css", (c) => c.body(STYLE, 200, { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=3600" }))
    .get("/assets/live.js", (c) => c.body(LIVE_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "max-age=3600" }))
    .get("/login", (c) => {
      const code = c.req.query("code");
      if (code === undefined) return page(c, <LoginPage />);
      const session = sessions.redeem(code);
      if (!session) return page(c, <LoginPage message="This login link is not valid: it was used already or it expired. Run `vilano ui` for a new one." />, 401);
      setCookie(c, sessionCookieName(c.req.url), session.id, { path: UI_BASE, httpOnly: true, sameSite: "Strict", maxAge: Math.floor(SESSION_TTL_MS / 1000) });
      return c.redirect(`${UI_BASE}/runs`, 303);
    })
    // Everything below needs a session: without one, every route leads to the login page.
    .use("*", async (c, next) => {
      const session = sessions.find(getCookie(c, sessionCookieName(c.req.url)));
      if (!session) return c.redirect(`${UI_BASE}/login`, 303);
      c.set("session", session);
      await next();
    })
    // A POST must come from this very origin and carry the session's CSRF token.
    .use("*", bodyLimit({ maxSize: 256 * 1024, onError: (c) => page(c, <ProblemPage title="Too large" message="The form is larger than 256 KiB." />, 413) }))
    .use("*", async (c, next) => {
      if (c.req.method !== "POST") return next();
      const origin = c.req.header("origin");
      const host = c.req.header("host");
      if (!origin || !host || origin !== `${new URL(c.req.url).protocol}//${host}`) {
        return page(c, <ProblemPage title="Refused" message={`This request came from another origin (${origin ?? "none given"}); the dashboard takes forms from its own pages only.`} />, 403);
      }
      let form: Record<string, unknown>;
      try {
        form = await c.req.parseBody(); // kept by Hono: the handlers' own parseBody reads the same
      } catch (error) {
        return page(c, <ProblemPage title="Bad form" message={`The form could not be read: ${messageOf(error)}`} />, 400);
      }
      const token = field(form, "_csrf");
      if (!token || !sameSecret(token, c.get("session").csrf)) {
        return page(c, <ProblemPage title="Refused" message="This form has no valid CSRF token; reload the page and try again." />, 403);
      }
      await next();
    })
    .get("/", (c) => c.redirect(`${UI_BASE}/runs`, 303))
    .get("/runs", async (c) => {
      const query = c.req.query();
      const filter: RunsFilter = {};
      if (query.project) filter.project = query.project;
      if (query.workflow) filter.workflow = query.workflow;
      if (query.status) {
        if (!isListedStatus(query.status)) throw new VilanoError("validation_failed", `status must be one of ${RUN_STATUSES.join(", ")}`);
        filter.status = query.status;
      }
      if (query.cursor) filter.cursor = query.cursor;
      const live = liveUrl();
      const { runs, nextCursor } = await backend.listRuns({ ...filter, limit: PAGE_SIZE });
      if (partial(c)) return c.html(String(<RunsTable runs={runs} nextCursor={nextCursor} filter={filter} />));
      return page(c, <RunsPage runs={runs} nextCursor={nextCursor} filter={filter} projects={await backend.listProjects()} liveUrl={live} />);
    })
    .get("/runs/:id", async (c) => {
      const id = c.req.param("id");
      if (partial(c)) return c.html(String(<RunDetails inspection={await backend.inspectRun(id)} now={now()} all={showAll(c)} />));
      const form: RunForm = {};
      const done = c.req.query("done");
      if (done === "signal") form.notice = "Signal sent.";
      if (done === "cancel") form.notice = "Cancel requested.";
      if (done === "stop") form.notice = "Stop requested.";
      return runPage(c, id, form);
    })
    .post("/runs/:id/signal", async (c) => {
      const id = c.req.param("id");
      const form = await c.req.parseBody();
      const name = field(form, "name");
      const payloadText = field(form, "payload");
      const rerender = (error: string) => runPage(c, id, { error, signalName: name, signalPayload: payloadText }, 400);
      const payload = parseJsonField(payloadText, "The payload");
      if (!payload.ok) return rerender(payload.error);
      const checked = v.safeParse(apiSchemas.SignalBody, { name, ...(payload.value === undefined ? {} : { payload: payload.value }) });
      if (!checked.success) return rerender(`The signal's ${firstIssue(checked.issues)}`);
      try {
        await backend.signalRun(id, name, payload.value);
      } catch (error) {
        if (statusOf(error) >= 500) throw error;
        return rerender(messageOf(error));
      }
      return c.redirect(`${runHref(id)}?done=signal`, 303);
    })
    .post("/runs/:id/cancel", async (c) => {
      const id = c.req.param("id");
      const reason = field(await c.req.parseBody(), "reason").trim();
      try {
        await backend.cancelRun(id, reason || "cancelled from the dashboard");
      } catch (error) {
        if (statusOf(error) >= 500) throw error;
        return runPage(c, id, { error: messageOf(error) }, 400);
      }
      return c.redirect(`${runHref(id)}?done=cancel`, 303);
    })
    .post("/runs/:id/stop", async (c) => {
      const id = c.req.param("id");
      const reason = field(await c.req.parseBody(), "reason").trim();
      const run = (await backend.inspectRun(id)).run;
      try {
        if (!isService(run) || run.key === undefined || !run.project) throw new VilanoError("validation_failed", `run ${id} is not a service instance of a registered project`);
        await backend.stopService(`${run.project}/${run.name}`, run.key, reason || "stopped from the dashboard");
      } catch (error) {
        if (statusOf(error) >= 500) throw error;
        return runPage(c, id, { error: messageOf(error) }, 400);
      }
      return c.redirect(`${runHref(id)}?done=stop`, 303);
    })
    .get("/services", async (c) => {
      const query = c.req.query();
      const filter: InstancesFilter = {};
      if (query.project) filter.project = query.project;
      if (query.service) filter.service = query.service;
      if (query.cursor) filter.cursor = query.cursor;
      const live = liveUrl();
      const { runs, nextCursor } = await backend.listRuns({
        kind: "service",
        limit: PAGE_SIZE,
        ...(filter.project ? { project: filter.project } : {}),
        ...(filter.service ? { workflow: filter.service } : {}),
        ...(filter.cursor ? { cursor: filter.cursor } : {}),
      });
      if (partial(c)) return c.html(String(<InstancesTable instances={runs} nextCursor={nextCursor} filter={filter} />));
      return page(c, <ServicesPage projects={await backend.listProjects()} instances={runs} nextCursor={nextCursor} filter={filter} liveUrl={live} />);
    })
    .get("/projects", async (c) => page(c, <ProjectsPage projects={await backend.listProjects()} />))
    .get("/projects/:name", async (c) => page(c, <ProjectPage project={await backend.getProject(c.req.param("name"))} csrf={c.get("session").csrf} form={{}} />))
    .post("/projects/:name/runs", async (c) => {
      const project = await backend.getProject(c.req.param("name"));
      const form = await c.req.parseBody();
      const values: StartForm = { workflow: field(form, "workflow"), input: field(form, "input"), id: field(form, "id").trim() };
      const rerender = (error: string) => page(c, <ProjectPage project={project} csrf={c.get("session").csrf} form={{ ...values, error }} />, 400);
      const input = parseJsonField(values.input!, "The input");
      if (!input.ok) return rerender(input.error);
      if (!project.workflows.includes(values.workflow!)) return rerender(`${project.name} has no workflow ${JSON.stringify(values.workflow)}`);
      const target = `${project.name}/${values.workflow}`;
      const checked = v.safeParse(apiSchemas.StartRunBody, { target, ...(input.value === undefined ? {} : { input: input.value }), ...(values.id ? { id: values.id } : {}) });
      if (!checked.success) return rerender(`The run's ${firstIssue(checked.issues)}`);
      let started: { id: string };
      try {
        started = await backend.startRun(target, input.value, values.id || undefined);
      } catch (error) {
        if (statusOf(error) >= 500) throw error;
        return rerender(messageOf(error));
      }
      return c.redirect(runHref(started.id), 303);
    })
    // One stream per open page: `change` whenever a commit touched the page's run (or any run).
    // Each change carries the feed's version as its id, and a page names the version it was drawn
    // at (`since`; after a reconnect the browser sends the last id it heard): a stream that starts
    // behind tells the page at once, so nothing committed while it was not listening is missed.
    .get("/live", async (c) => {
      const runId = c.req.query("run");
      if (runId !== undefined) await backend.runEvents(runId, Number.MAX_SAFE_INTEGER); // 404 for no such run, before the stream starts
      const heardText = c.req.header("last-event-id") || c.req.query("since");
      const heard = heardText ? Number(heardText) : Number.NaN;
      return streamInSlot(c, options.streams, async (stream) => {
        // `pending`: a change was heard and its (throttled) notice is on its way; `due`: it is.
        let pending = false;
        let due = false;
        let timer: ReturnType<typeof setTimeout> | null = null;
        let wake: (() => void) | null = null;
        const stop = backend.watchChanges((runIds) => {
          if (pending || (runId !== undefined && !runIds.has(runId))) return;
          pending = true;
          timer = setTimeout(() => {
            timer = null;
            due = true;
            wake?.();
          }, LIVE_THROTTLE_MS);
        });
        stream.onAbort(() => wake?.());
        const stopPinging = keepStreamAlive(stream, options.heartbeatMs);
        try {
          // Subscribed first, then compared: a commit lands either before this check or in the
          // listener. A different version, even a higher one (a daemon restarted), is not this one.
          const version = backend.changeVersion();
          if (Number.isSafeInteger(heard) && heard !== version) due = true;
          await stream.writeSSE({ event: "ready", data: "", id: String(due ? heard : version) });
          while (!stream.aborted) {
            if (!due) await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
            if (stream.aborted || !due) continue;
            due = false;
            pending = false;
            await stream.writeSSE({ event: "change", data: String(now()), id: String(backend.changeVersion()) });
          }
        } finally {
          stop();
          stopPinging();
          if (timer) clearTimeout(timer);
        }
      });
    });
  return app;
}
