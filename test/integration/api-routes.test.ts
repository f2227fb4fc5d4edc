import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { createApiApp, type ApiApp, type ApiBackend } from "../../src/api/index.ts";
import { createApiBackend, createDaemonRuntime, type DaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createSessions } from "../../src/ui/index.ts";
import { STARTER_INPUT } from "../helpers/reviewer.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const TOKEN = "route-test-token";
let daemon: DaemonRuntime;
let app: ApiApp;
let backend: ApiBackend;

// Bodies are read as loose JSON here; the routes' own types are checked by the typed client.
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await app.request(`http://127.0.0.1:4141${path}`, {
    method,
    headers: { host: "127.0.0.1:4141", "x-vilano-token": TOKEN, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

beforeAll(async () => {
  daemon = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger: createLogger("silent") });
  backend = createApiBackend(daemon, createSessions());
  app = createApiApp({ backend, token: TOKEN, maxBodyBytes: 4096 });
  const project = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), project, { recursive: true });
  const added = await call("POST", "/v1/projects", { path: project, name: "my-agent" });
  expect(added.status).toBe(201);
});

afterAll(async () => {
  await daemon.close();
});

describe("control API routes", () => {
  test("projects are listed with their definitions", async () => {
    const { status, json } = await call("GET", "/v1/projects");
    expect(status).toBe(200);
    expect(json.projects).toEqual([expect.objectContaining({ name: "my-agent", workflows: ["reviewCoordinator"], services: ["reviewer"] })]);
  });

  test("a run started through the API completes, and its result long-polls", async () => {
    const started = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: STARTER_INPUT, id: "api-run-1" });
    expect(started.status).toBe(201);
    const result = await call("GET", "/v1/runs/api-run-1/result?wait=5000");
    expect(result.json.run).toMatchObject({ id: "api-run-1", status: "completed", output: { status: { noteCount: 1 } } });
    const again = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: STARTER_INPUT, id: "api-run-1" });
    expect(again.status).toBe(200);
    expect(again.json.run.created).toBe(false);
    const inspected = await call("GET", "/v1/runs/api-run-1");
    expect(inspected.json.events.map((e: Json) => e.type)).toContain("ask_replied");
    const listed = await call("GET", "/v1/runs?project=my-agent&workflow=reviewCoordinator");
    expect(listed.json.runs.map((r: Json) => r.id)).toContain("api-run-1");
  });

  test("with wait, one request starts a run and answers with its output; a bad wait writes nothing", async () => {
    const input = { repoId: "repo_wait", note: "one request" };
    const done = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input, id: "api-run-wait", wait: "5s" });
    expect(done.status).toBe(201);
    expect(done.json.run).toMatchObject({ id: "api-run-wait", created: true, status: "completed", output: { status: { noteCount: 1 } } });
    const again = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input, id: "api-run-wait", wait: 1000 });
    expect(again.status).toBe(200);
    expect(again.json.run).toMatchObject({ created: false, status: "completed" });
    const bad = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", id: "api-run-bad-wait", wait: "soon" });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("wait");
    expect((await call("GET", "/v1/runs/api-run-bad-wait")).status).toBe(404);
  });

  test("runs are listed in pages: each cursor picks up where the last page ended, even as runs arrive", async () => {
    for (let i = 0; i < 5; i++) expect((await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: { repoId: `page-${i}`, note: "p" }, id: `page-${i}` })).status).toBe(201);
    const seen: string[] = [];
    let page = await call("GET", "/v1/runs?workflow=reviewCoordinator&limit=2");
    const total = (await call("GET", "/v1/runs?workflow=reviewCoordinator&limit=9999")).json.runs.length as number;
    // A run started between pages comes before the cursor: it does not shift the pages after it.
    await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: { repoId: "page-late", note: "p" }, id: "page-late" });
    for (;;) {
      seen.push(...page.json.runs.map((r: Json) => r.id));
      if (!page.json.nextCursor) break;
      page = await call("GET", `/v1/runs?workflow=reviewCoordinator&limit=2&cursor=${encodeURIComponent(page.json.nextCursor)}`);
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(seen).not.toContain("page-late");
    const bad = await call("GET", "/v1/runs?cursor=nonsense");
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toContain("invalid cursor");
    expect((await call("GET", "/v1/runs?limit=0")).status).toBe(400);
  });

  test("a service instance answers by key, and a call with a key input creates one", async () => {
    await call("GET", "/v1/runs/api-run-1/result?wait=5000");
    const asked = await call("POST", "/v1/services/my-agent/reviewer/calls", { kind: "ask", handler: "status", key: "repo_123" });
    expect(asked.json).toMatchObject({ ok: true, serviceRunId: "svc:my-agent/reviewer:repo_123", reply: { noteCount: 1 } });
    const sent = await call("POST", "/v1/services/my-agent/reviewer/calls", { kind: "send", handler: "hint", keyInput: { repoId: "fresh" }, payload: { note: "hi" } });
    expect(sent.json).toEqual({ ok: true, serviceRunId: "svc:my-agent/reviewer:fresh" });
    const missing = await call("POST", "/v1/services/my-agent/reviewer/calls", { kind: "ask", handler: "status", key: "nobody" });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe('my-agent/reviewer has no instance with key "nobody"');
    const stopped = await call("POST", "/v1/services/my-agent/reviewer/stop", { key: "fresh" });
    expect(stopped.json.instance.status).toBe("stopped");
  });

  test("invalid bodies get 400 listing the issues; unknown names get 404", async () => {
    const bad = await call("POST", "/v1/runs", { target: "no-slash", extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.issues.map((i: Json) => i.path).sort()).toEqual(["extra", "target"]);
    const both = await call("POST", "/v1/services/my-agent/reviewer/calls", { kind: "ask", handler: "status" });
    expect(both.json.error.message).toContain("give either key or keyInput");
    const unknown = await call("POST", "/v1/runs", { target: "ghost/flow" });
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
    expect((await call("GET", "/v1/runs/nope")).status).toBe(404);
  });

  test("signals and cancellation reach runs", async () => {
    const started = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: STARTER_INPUT });
    const id = started.json.run.id as string;
    await call("GET", `/v1/runs/${id}/result?wait=5000`);
    const late = await call("POST", `/v1/runs/${id}/signals`, { name: "x" });
    expect(late.status).toBe(409);
    expect(late.json.error.code).toBe("run_finished");
    const cancel = await call("POST", `/v1/runs/${id}/cancel`, {});
    expect(cancel.json.error.code).toBe("run_finished");
  });
});

describe("control API event stream", () => {
  test("a run's events stream as server-sent events and the stream ends with the run", async () => {
    const started = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: STARTER_INPUT });
    const id = started.json.run.id as string;
    const res = await app.request(`http://127.0.0.1:4141/v1/runs/${encodeURIComponent(id)}/events`, {
      headers: { host: "127.0.0.1:4141", "x-vilano-token": TOKEN },
    });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text(); // ends once the run has finished and every event was sent
    const events = text
      .split("\n")
      .filter((line) => line.startsWith("data:"))
      .map((line) => JSON.parse(line.slice(5)) as { seq: number; type: string });
    expect(events[0]!.type).toBe("run_started");
    expect(events.at(-1)!.type).toBe("run_completed");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const after = await app.request(`http://127.0.0.1:4141/v1/runs/${encodeURIComponent(id)}/events?after=${events.length - 1}`, {
      headers: { host: "127.0.0.1:4141", "x-vilano-token": TOKEN },
    });
    expect((await after.text()).split("\n").filter((line) => line.startsWith("data:"))).toHaveLength(1);
  });

  test("a stream on a quiet run writes a comment now and then, so the server's idle timeout never cuts it", async () => {
    const run = await call("POST", "/v1/runs", { target: "my-agent/reviewCoordinator", input: { repoId: "quiet", note: "n" }, wait: 10_000 });
    expect(run.json.run.status).toBe("completed");
    // The walk's reviewer instance stays idle: its stream has nothing to say and does not end.
    const pinging = createApiApp({ backend, token: TOKEN, heartbeatMs: 50 });
    const res = await pinging.request(`http://127.0.0.1:4141/v1/runs/${encodeURIComponent("svc:my-agent/reviewer:quiet")}/events`, {
      headers: { host: "127.0.0.1:4141", "x-vilano-token": TOKEN },
    });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes(": ping")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toContain("event: run_event");
  });
});
