/**
 * The dashboard's pages against a real daemon runtime (SQLite file, worker processes), through the
 * dashboard app itself: long runs drawn in part, pages that are exactly full, forms that cannot be
 * read, streams kept open, and the session cookie named by port.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Hono } from "hono";
import { createApiBackend, createDaemonRuntime, type DaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createDashboard, createSessions, sessionCookieName } from "../../src/ui/index.ts";
import { writeProject } from "../helpers/project.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const FLOWS = `
import { workflow, service } from "@vilano/runtime";
export const long = workflow({
  name: "long",
  run: async (input: { steps: number }, ctx) => {
    let sum = 0;
    for (let i = 0; i < input.steps; i++) sum += await ctx.step("part", () => i);
    return sum;
  },
});
export const counter = service({
  name: "counter",
  key: (input: { id: string }) => input.id,
  init: async () => ({ count: 0 }),
  onSend: { add: async (by: number, state) => ({ state: { count: state.count + by } }) },
});
`;
const ORIGIN = "http://127.0.0.1:7711";
const HOST = { host: "127.0.0.1:7711" };

let rt: DaemonRuntime;
let dashboard: Hono;
let cookie: string;
const get = (path: string, headers: Record<string, string> = {}) => dashboard.request(`${ORIGIN}${path}`, { headers: { ...HOST, cookie, ...headers } });
const rows = (html: string, table: string) => {
  const body = html.slice(html.indexOf(`aria-label="${table}"`));
  return (body.slice(0, body.indexOf("</table>")).match(/<tr[ >]/g) ?? []).length - 1;
};

beforeAll(async () => {
  rt = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger: createLogger("silent") });
  await rt.projects.add(writeProject({ "src/flows.ts": FLOWS }), "pages");
  const sessions = createSessions();
  dashboard = createDashboard({ backend: createApiBackend(rt, sessions), sessions, heartbeatMs: 50 }) as unknown as Hono;
  const login = await dashboard.request(`${ORIGIN}/ui/login?code=${sessions.issueLoginCode().code}`, { headers: HOST });
  cookie = login.headers.get("set-cookie")!.split(";")[0]!;
}, 20_000);

afterAll(async () => {
  await rt?.close();
});

describe("dashboard pages", () => {
  test("the session cookie is named by the daemon's port, and the dashboard's root works with or without its slash", async () => {
    expect(cookie.startsWith(`${sessionCookieName(ORIGIN)}=`)).toBe(true);
    expect(sessionCookieName(ORIGIN)).toBe("vilano_session_7711");
    for (const path of ["/ui", "/ui/"]) {
      const response = await get(path);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("/ui/runs");
    }
    expect((await get("/ui/runs/")).status).toBe(200);
  });

  test("a long run's page draws its latest 1,000 ops and events and says so; ?all=1 draws every one", async () => {
    const run = await rt.startRun("pages/long", { steps: 1_200 }, { id: "long-run" });
    expect(await rt.result(run.id, { timeout: "30s" })).toBe((1_200 * 1_199) / 2);
    const shortened = await (await get("/ui/runs/long-run")).text();
    expect(rows(shortened, "Ops")).toBe(1_000);
    expect(rows(shortened, "Events")).toBe(1_000);
    expect((shortened.match(/<g data-op=/g) ?? []).length).toBe(1_000);
    expect(shortened).toContain("This run has 1200 ops and 1202 events: the latest 1000 of each are shown.");
    expect(shortened).toContain('data-op="step:part:1199"'); // the latest are the ones kept
    expect(shortened).not.toContain('data-op="step:part:199"');
    const all = await (await get("/ui/runs/long-run?all=1")).text();
    expect(rows(all, "Ops")).toBe(1_200);
    expect(rows(all, "Events")).toBe(1_202);
    expect(all).not.toContain("the latest 1000 of each are shown");
    // The live part of the page keeps the same choice.
    expect(rows(await (await get("/ui/runs/long-run?all=1", { "x-vilano-partial": "1" })).text(), "Ops")).toBe(1_200);
  }, 40_000);

  test("a services page that is exactly full offers no older page; one with more does, and it holds the rest", async () => {
    for (let i = 0; i < 50; i++) await rt.service("pages/counter", { id: `c${String(i).padStart(2, "0")}` });
    const full = await (await get("/ui/services?project=pages&service=counter")).text();
    expect(rows(full, "Instances")).toBe(50);
    expect(full).not.toContain("Older");
    await rt.service("pages/counter", { id: "c50" });
    const first = await (await get("/ui/services?project=pages&service=counter")).text();
    const older = /href="([^"]*cursor=[^"]+)" rel="next"/.exec(first)![1]!.replaceAll("&amp;", "&");
    const second = await (await get(older)).text();
    expect(rows(second, "Instances")).toBe(1);
    expect(second).not.toContain("Older");
  }, 20_000);

  test("a form that cannot be read is refused with 400 and a reason; nothing is written", async () => {
    const page = await (await get("/ui/runs/long-run")).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    const before = (await rt.inspect("long-run")).events.length;
    const response = await dashboard.request(`${ORIGIN}/ui/runs/long-run/cancel`, {
      method: "POST",
      headers: { ...HOST, cookie, origin: ORIGIN, "content-type": "multipart/form-data; boundary=xyz" },
      body: `--xyz\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n`, // no final boundary
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("The form could not be read");
    expect((await rt.inspect("long-run")).events.length).toBe(before);
  });

  test("a live stream for a run that does not exist is a 404; a quiet stream writes a comment to stay open", async () => {
    const missing = await get("/ui/live?run=no-such-run");
    expect(missing.status).toBe(404);
    const quiet = await get("/ui/live?run=long-run");
    expect(quiet.headers.get("content-type")).toContain("text/event-stream");
    const reader = quiet.body!.getReader();
    let text = "";
    while (!text.includes(": ping")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text.startsWith("event: ready")).toBe(true);
  });
});
