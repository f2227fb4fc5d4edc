import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import * as v from "valibot";
import { apiErrorHandler, jsonBody, queryOf, limitBody, requireJsonBody, requireLoopbackHost, requireToken } from "../../src/api/index.ts";

const TOKEN = "s3cret-token-value";
const unexpected: unknown[] = [];

function app() {
  const a = new Hono();
  a.onError(apiErrorHandler((e) => unexpected.push(e)));
  a.use("*", requireLoopbackHost());
  a.get("/health", (c) => c.json({ ok: true }));
  a.use("/api/*", requireToken(TOKEN));
  a.use("/api/*", limitBody(64));
  a.use("/api/*", requireJsonBody());
  a.post("/api/echo", jsonBody(v.object({ name: v.pipe(v.string(), v.minLength(1)), count: v.number() }), "echo body"), (c) =>
    c.json({ ok: true, body: c.req.valid("json") }),
  );
  a.post("/api/optional", jsonBody(v.strictObject({ reason: v.optional(v.string()) }), "optional body"), (c) => c.json({ ok: true, body: c.req.valid("json") }));
  a.get("/api/list", queryOf(v.strictObject({ limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a whole number"))) })), (c) =>
    c.json({ ok: true, query: c.req.valid("query") }),
  );
  a.get("/api/boom", () => {
    throw new Error("database password is hunter2");
  });
  return a;
}

// Response bodies are read as this envelope-or-payload shape.
type Body = { ok: boolean; body?: unknown; error: { code: string; message: string; details?: { issues: { path: string }[] } } };
const json = async (res: Response): Promise<Body> => (await res.json()) as Body;

const req = (path: string, init: RequestInit & { host?: string } = {}) => {
  const headers = new Headers(init.headers);
  headers.set("host", init.host ?? "127.0.0.1:4141");
  // JSON routes take JSON only (415 otherwise): requests with a body say so, as the client does.
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  return app().request(`http://127.0.0.1:4141${path}`, { ...init, headers });
};

describe("control API guards", () => {
  test("the health check needs no token", async () => {
    expect((await req("/health")).status).toBe(200);
  });

  test("a request without a token, or with a wrong one, gets 401 in the error envelope", async () => {
    const missing = await req("/api/boom");
    expect(missing.status).toBe(401);
    expect(await json(missing)).toEqual({
      ok: false,
      error: { code: "unauthorized", message: "missing token: send X-Vilano-Token or Authorization: Bearer <token>" },
    });
    const wrong = await req("/api/boom", { headers: { "x-vilano-token": "nope" } });
    expect(wrong.status).toBe(401);
    expect((await json(wrong)).error.message).toBe("invalid token");
  });

  test("the token is accepted as a header or a bearer credential", async () => {
    const body = JSON.stringify({ name: "a", count: 1 });
    for (const headers of [{ "x-vilano-token": TOKEN }, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const res = await req("/api/echo", { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true, body: { name: "a", count: 1 } });
    }
  });

  test("a foreign Host is refused, even one that starts like a loopback name", async () => {
    for (const host of ["evil.example:4141", "localhost.evil.example", "127.0.0.1.nip.io:4141"]) {
      const res = await req("/health", { host });
      expect(res.status).toBe(403);
      expect((await json(res)).error.code).toBe("forbidden");
    }
    for (const host of ["localhost:4141", "[::1]:4141", "127.0.0.1"]) expect((await req("/health", { host })).status).toBe(200);
  });

  test("a body over the limit gets 413, whether or not it declares its length", async () => {
    const big = JSON.stringify({ name: "x".repeat(200), count: 1 });
    const declared = await req("/api/echo", { method: "POST", body: big, headers: { "x-vilano-token": TOKEN } });
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await req("/api/echo", { method: "POST", body: stream, headers: { "x-vilano-token": TOKEN } });
    expect(streamed.status).toBe(413);
    expect((await json(streamed)).error.code).toBe("payload_too_large");
  });

  test("an invalid body gets 400 listing every issue", async () => {
    const res = await req("/api/echo", { method: "POST", body: JSON.stringify({ name: "", count: "3" }), headers: { "x-vilano-token": TOKEN } });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.code).toBe("validation_failed");
    expect(error.details!.issues.map((i) => i.path)).toEqual(["name", "count"]);
    const notJson = await req("/api/echo", { method: "POST", body: "{nope", headers: { "x-vilano-token": TOKEN } });
    expect(notJson.status).toBe(400);
    expect((await json(notJson)).error.message).toContain("the request body is not valid JSON");
  });

  test("an empty body reads as {}, with or without a JSON Content-Type, declared or streamed", async () => {
    const token = { "x-vilano-token": TOKEN };
    const typed = await app().request("http://127.0.0.1:4141/api/optional", { method: "POST", body: "", headers: { ...token, host: "127.0.0.1", "content-type": "application/json" } });
    expect(await typed.json()).toEqual({ ok: true, body: {} });
    const bare = await app().request("http://127.0.0.1:4141/api/optional", { method: "POST", headers: { ...token, host: "127.0.0.1" } });
    expect(await bare.json()).toEqual({ ok: true, body: {} });
    const chunked = await req("/api/optional", { method: "POST", body: new ReadableStream({ start: (c) => c.close() }), headers: token });
    expect(await chunked.json()).toEqual({ ok: true, body: {} });
  });

  test("an invalid query gets 400 naming the parameter", async () => {
    const res = await req("/api/list?limit=ten&extra=1", { headers: { "x-vilano-token": TOKEN } });
    expect(res.status).toBe(400);
    const { error } = await json(res);
    expect(error.message).toStartWith("invalid query:");
    expect(error.details!.issues.map((i) => i.path).sort()).toEqual(["extra", "limit"]);
    expect(await (await req("/api/list?limit=10", { headers: { "x-vilano-token": TOKEN } })).json()).toEqual({ ok: true, query: { limit: "10" } });
  });

  test("an unexpected error is a 500 that does not leak its text", async () => {
    const res = await req("/api/boom", { headers: { "x-vilano-token": TOKEN } });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(JSON.parse(text).error.code).toBe("internal");
    expect(unexpected.length).toBeGreaterThan(0);
  });
});
