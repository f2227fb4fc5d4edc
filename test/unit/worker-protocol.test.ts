import { describe, expect, test } from "bun:test";
import { createBatcher, sendingEachOnFailure, unbatch } from "../../src/worker/batching.ts";
import { FromWorkerSchema, parseMessage, ToWorkerSchema } from "../../src/worker/protocol.ts";
import { createHistory } from "../../src/engine/history.ts";
import { NondeterminismError } from "../../src/shared/index.ts";
import { thrownBy } from "../helpers/thrown-by.ts";

const report = { t: "report", a: 1, c: 2, fence: 3, cmd: { type: "step_completed", opKey: "step:a:0", seq: 0, name: "a", attempt: 1, result: "1" } };

describe("worker protocol", () => {
  test("accepts a well-formed message of each direction as it is", () => {
    expect(parseMessage(FromWorkerSchema, report, "w")).toEqual(report as never);
    const reply = { t: "reply", a: 1, c: 2, ok: false, code: "stale_lease", message: "gone" };
    expect(parseMessage(ToWorkerSchema, reply, "d")).toEqual(reply as never);
  });

  test("an unknown tag is refused, naming what was expected", () => {
    expect(String((thrownBy(() => parseMessage(FromWorkerSchema, { t: "shout" }, "worker 7")) as Error).message)).toMatch(
      /malformed message from worker 7 at t: .*Expected \("ready" \| "hb" \| "report".*but received "shout"/,
    );
  });

  test("options that share a tag are told apart by their other fields, and a message that fits none is refused naming the field", () => {
    const ok = { t: "reply", a: 1, c: 2, ok: true, res: { outcome: "recorded" } };
    expect(parseMessage(ToWorkerSchema, ok, "d")).toEqual(ok as never);
    expect(String((thrownBy(() => parseMessage(ToWorkerSchema, { ...ok, ok: "yes" }, "the daemon")) as Error).message)).toContain("malformed message from the daemon at ok");
    expect(String((thrownBy(() => parseMessage(ToWorkerSchema, { t: "reply", a: 1, c: 2, ok: false, code: "x" }, "d")) as Error).message)).toContain("malformed message from d at ok");
  });

  test("a malformed nested command is refused with its path", () => {
    const bad = { ...report, cmd: { ...report.cmd, seq: -1 } };
    expect(String((thrownBy(() => parseMessage(FromWorkerSchema, bad, "worker 7")) as Error).message)).toContain("malformed message from worker 7 at cmd.seq");
    const wrongType = { ...report, cmd: { ...report.cmd, type: "teleport" } };
    expect(String((thrownBy(() => parseMessage(FromWorkerSchema, wrongType, "w")) as Error).message)).toContain("at cmd.type");
  });

  test("an activation whose history holds a kind this worker does not know (a newer daemon's) still parses, and replay names it", () => {
    const op = { opKey: "patch:fix-1:0", seq: 0, kind: "patch", name: "fix-1", status: "completed", attempt: 1, result: "true", error: null, resolvedSeq: null };
    const activate = { t: "activate", a: 1, code: { id: "c", dir: "/x" }, run: { id: "r", project: "p", kind: "workflow", name: "w", input: null }, fence: 1, ops: [op] };
    const parsed = parseMessage(ToWorkerSchema, activate, "daemon");
    if (parsed.t !== "activate") throw new Error("expected an activation");
    const error = thrownBy(() => createHistory(parsed.ops).next("step", "charge", undefined));
    expect(error).toBeInstanceOf(NondeterminismError);
    expect((error as Error).message).toContain('history recorded patch "fix-1"');
  });

  test("messages sent in one tick go as one batch, in order; a lone one goes as it is", async () => {
    const delivered: unknown[] = [];
    const send = createBatcher<number>((payload) => delivered.push(payload));
    send(1);
    send(2);
    send(3);
    await Promise.resolve();
    send(4);
    await Promise.resolve();
    expect(delivered).toEqual([{ t: "batch", m: [1, 2, 3] }, 4]);
    expect(delivered.flatMap(unbatch)).toEqual([1, 2, 3, 4]);
  });
  test("a batch that cannot be sent goes one message at a time: only the message that fails alone is lost, and it is named", async () => {
    const delivered: unknown[] = [];
    const unsent: [number, string][] = [];
    // Like Bun's IPC: the whole payload is serialised before anything is written, so a throw sends nothing.
    const ipc = (payload: number | { t: "batch"; m: number[] }) => {
      if (unbatch(payload).includes(13)) throw new RangeError("Out of memory");
      delivered.push(payload);
    };
    const send = createBatcher<number>(sendingEachOnFailure(ipc, (message, error) => unsent.push([message, String(error)])));
    send(12);
    send(13);
    send(14);
    await Promise.resolve();
    expect(delivered).toEqual([12, 14]);
    expect(unsent).toEqual([[13, "RangeError: Out of memory"]]);
    send(13);
    await Promise.resolve();
    expect(unsent).toHaveLength(2);
    expect(delivered).toEqual([12, 14]);
  });

  test("a name, op key or topic past the identifier limit is refused by the daemon, for workers that bypass the SDK", () => {
    const huge = "s".repeat(20 * 1024 * 1024);
    for (const cmd of [{ ...report.cmd, name: huge }, { ...report.cmd, opKey: huge }]) {
      expect(String((thrownBy(() => parseMessage(FromWorkerSchema, { ...report, cmd }, "worker 7")) as Error).message)).toMatch(
        /malformed message from worker 7 at cmd\.(name|opKey): is longer than the limit of 8192 characters/,
      );
    }
    const publish = { type: "publish", opKey: "publish:t:0", seq: 0, name: "t", topic: huge, payload: null };
    expect(String((thrownBy(() => parseMessage(FromWorkerSchema, { ...report, cmd: publish }, "w")) as Error).message)).toContain("at cmd.topic");
  });

  test("a failure with a name, message or details of any size arrives cut to the sizes failures are kept at", () => {
    const huge = "N".repeat(20 * 1024 * 1024);
    const failed = { type: "step_failed", opKey: "step:a:0", seq: 0, name: "a", attempt: 1, retry: { retries: 0, backoff: { kind: "fixed", delayMs: 0, jitterRatio: 0 }, on: ["application"] }, error: { name: huge, message: huge, code: huge, family: "application", retryable: true, details: { huge } } };
    const parsed = parseMessage(FromWorkerSchema, { ...report, cmd: failed }, "w") as { cmd: { error: object } };
    expect(JSON.stringify(parsed.cmd.error).length).toBeLessThan(10 * 1024);
  });
});

