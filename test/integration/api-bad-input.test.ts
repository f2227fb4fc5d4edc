/**
 * Bad input at the control API is refused completely before anything is written: an ask timeout
 * beyond every bound, input nested 100,000 deep, durations past a date's range, a body that is not
 * JSON. Every refusal is a 4xx naming what was wrong.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { createApiApp, type ApiApp } from "../../src/api/index.ts";
import { createApiBackend, createDaemonRuntime, type DaemonRuntime } from "../../src/runtime/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createSessions } from "../../src/ui/index.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const TOKEN = "bad-input-token";
let daemon: DaemonRuntime;
let app: ApiApp;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(method: string, path: string, body?: string, contentType = "application/json"): Promise<{ status: number; json: Json }> {
  const res = await app.request(`http://127.0.0.1:4141${path}`, {
    method,
    headers: { host: "127.0.0.1:4141", "x-vilano-token": TOKEN, "content-type": contentType },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

const runCount = async () => (await call("GET", "/v1/runs?limit=1000")).json.runs.length as number;

beforeAll(async () => {
  daemon = await createDaemonRuntime({ home: tempDir("vilano-home-"), logger: createLogger("silent") });
  app = createApiApp({ backend: createApiBackend(daemon, createSessions()), token: TOKEN, maxBodyBytes: 1024 * 1024 });
  const project = tempDir("vilano-project-");
  cpSync(join(import.meta.dir, "..", "..", "starters", "agent"), project, { recursive: true });
  expect((await call("POST", "/v1/projects", JSON.stringify({ path: project, name: "agent" }))).status).toBe(201);
});

afterAll(async () => {
  await daemon.close();
});

describe("bad input at the API", () => {
  test("an ask timeout past every bound is a 400 and no message is queued (nor an instance created)", async () => {
    const before = await runCount();
    for (const timeout of [1e308, "100000d", -1]) {
      const res = await call("POST", "/v1/services/agent/reviewer/calls", JSON.stringify({ kind: "ask", handler: "status", keyInput: { repoId: "r1" }, timeout }));
      expect(res.status).toBe(400);
      expect(res.json.error.message).toContain("timeout");
    }
    expect(await runCount()).toBe(before);
  });

  test("input nested 100,000 deep in a 200 KB body is a 400 naming the depth, not a crash", async () => {
    const before = await runCount();
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const res = await call("POST", "/v1/runs", `{"target":"agent/reviewCoordinator","input":${deep}}`);
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain("nested more than 512 levels deep");
    expect(await runCount()).toBe(before);
  });

  test("a body that is not declared as JSON is refused with 415, and nothing starts", async () => {
    const before = await runCount();
    const res = await call("POST", "/v1/runs", JSON.stringify({ target: "agent/reviewCoordinator", input: { repoId: "r", note: "n" } }), "text/plain");
    expect(res.status).toBe(415);
    expect(res.json.error).toMatchObject({ code: "unsupported_media_type" });
    expect(await runCount()).toBe(before);
  });
  test("a handler name that only an object's inherited members answer to is no handler: a 400 naming it", async () => {
    for (const handler of ["__proto__", "isPrototypeOf", "toString", "hasOwnProperty", "constructor"]) {
      const res = await call("POST", "/v1/services/agent/reviewer/calls", JSON.stringify({ kind: "send", handler, keyInput: { repoId: "proto" } }));
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: "validation_failed" });
      expect(res.json.error.message).toContain(JSON.stringify(handler));
    }
  });
});
