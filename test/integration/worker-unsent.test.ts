/**
 * Messages the daemon cannot send to a worker: one that fails costs only itself. A real worker
 * process (from source); the message that cannot go is one the IPC serialiser throws on.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { createLogger } from "../../src/shared/index.ts";
import { spawnWorker, type WorkerProcess } from "../../src/worker/worker-process.ts";
import type { FromWorker, ToWorker } from "../../src/worker/protocol.ts";
import { unsentToWorker } from "../../src/worker/unsent-to-worker.ts";
import { eventually, tempDir } from "../helpers/temp-dir.ts";

let worker: WorkerProcess | undefined;
afterEach(async () => {
  worker?.kill();
  await worker?.exited;
  worker = undefined;
});

describe("daemon → worker sends", () => {
  test("a message that cannot be sent is handed over alone; the others of its batch reach the worker", async () => {
    const heard: FromWorker[] = [];
    const unsent: ToWorker[] = [];
    const generation = crypto.randomUUID();
    worker = spawnWorker({
      generation,
      env: { PATH: process.env.PATH ?? "" },
      cwd: tempDir("vilano-unsent-"),
      logger: createLogger("silent"),
      onMessage: (message) => heard.push(message),
      onUnsent: (message) => unsent.push(message),
    });
    await eventually(() => (worker!.ready ? true : undefined), 20_000, "the worker to be ready");
    // Sent in one tick: one batch. The first cannot be serialised; the second must still arrive.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const bad: ToWorker = { t: "reply", a: 1, c: 1, ok: true, res: cyclic };
    worker.send(bad);
    worker.send({ t: "describe", q: 7, code: { id: "nowhere@0", dir: "/nonexistent/vilano-unsent" } });
    const answer = await eventually(() => heard.find((m) => m.t === "answer" && m.q === 7), 20_000, "the worker to answer the describe sent beside it");
    expect(answer).toMatchObject({ t: "answer", q: 7, ok: false });
    expect(unsent).toEqual([bad]);
  }, 30_000);
});

describe("unsentToWorker", () => {
  const activate = (turn?: true): ToWorker & { t: "activate" } => ({
    t: "activate",
    a: 3,
    code: { id: "p@1", dir: "/p" },
    run: { id: "r1", project: "p", kind: turn ? "service" : "workflow", name: "w", input: null },
    fence: 2,
    ops: [],
    ...(turn ? { turn: { message: { id: 1, kind: "ask", name: "m", payload: null, attempt: 1 }, state: null } as never } : {}),
  });
  const tooLarge = new RangeError("Out of memory");

  test("an activation too large to send fails its run, not retryable, saying why", () => {
    const cost = unsentToWorker(activate(), tooLarge);
    expect(cost).toMatchObject({ fail: { type: "failed", error: { code: "value_too_large", retryable: false } } });
    expect("fail" in cost && cost.fail.type === "failed" && cost.fail.error.message).toContain("run r1: its activation (history of 0 ops) could not be sent to a worker: RangeError: Out of memory");
  });
  test("a service turn too large to send fails its message", () => {
    expect(unsentToWorker(activate(true), tooLarge)).toMatchObject({ fail: { type: "rejected", error: { code: "value_too_large" } } });
  });
  test("an activation lost to a failing channel is only said: the worker's exit gives the run back", () => {
    expect(unsentToWorker(activate(), new Error("channel closed"))).toEqual({ why: expect.stringContaining("it goes again when the worker is gone") });
  });
  test("an answer to a report that cannot go is replaced by a refusal, so the report does not wait for ever", () => {
    expect(unsentToWorker({ t: "reply", a: 3, c: 9, ok: true, res: {} }, tooLarge)).toMatchObject({ instead: { t: "reply", a: 3, c: 9, ok: false, code: "value_too_large" } });
  });
  test("other messages are said", () => {
    expect(unsentToWorker({ t: "abort", a: 3, code: "cancelled", message: "m" }, tooLarge)).toEqual({ why: expect.stringContaining('"abort" message could not be sent to a worker') });
  });
});
