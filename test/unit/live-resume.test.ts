/** When a parked execution may be resumed, and with what (engine/run-workflow.ts `outcomesToResume`). */
import { describe, expect, test } from "bun:test";
import { outcomesToResume } from "../../src/engine/run-workflow.ts";
import type { FailureBody, HistoryOp } from "../../src/shared/index.ts";

const TIMED_OUT: FailureBody = { name: "SignalTimeoutError", message: "late", code: "signal_timeout", family: "timeout", retryable: false };

const op = (seq: number, opKey: string, status: HistoryOp["status"], extra: Partial<HistoryOp> = {}): HistoryOp => ({
  opKey,
  seq,
  kind: "sleep",
  name: "sleep",
  status,
  attempt: 1,
  result: null,
  error: null,
  resolvedSeq: null,
  ...extra,
});

describe("outcomesToResume", () => {
  test("hands over the outcomes of the open waits, in the order they were delivered; open ones stay open", () => {
    const ops = [
      op(0, "step:a:0", "completed", { kind: "step", result: "1", resolvedSeq: 1 }),
      op(1, "sleep:0", "completed", { result: '{"dueAt":5}', resolvedSeq: 4 }),
      op(2, "signal:go:0", "failed", { kind: "signal", error: JSON.stringify(TIMED_OUT), resolvedSeq: 3 }),
      op(3, "signal:other:0", "waiting", { kind: "signal" }),
    ];
    expect(outcomesToResume(ops, 4, ["sleep:0", "signal:go:0", "signal:other:0"], new Set(ops.map((o) => o.opKey)))).toEqual([
      { opKey: "signal:go:0", outcome: { status: "failed", error: TIMED_OUT } },
      { opKey: "sleep:0", outcome: { status: "completed", result: '{"dueAt":5}' } },
    ]);
  });

  test("an op the execution did not ask for means the run went on elsewhere: no resume", () => {
    const ops = [op(0, "sleep:0", "completed", { resolvedSeq: 1 }), op(1, "step:b:0", "completed", { kind: "step", resolvedSeq: 2 })];
    expect(outcomesToResume(ops, 1, ["sleep:0"], new Set(["sleep:0"]))).toBeNull();
    expect(outcomesToResume(ops, 2, ["sleep:0"], new Set(["sleep:0"]))).toBeNull();
  });

  test("an open wait missing from history, or in a state a resume cannot hand over, means no resume", () => {
    expect(outcomesToResume([op(0, "sleep:0", "waiting")], 1, ["sleep:1"], new Set(["sleep:0"]))).toBeNull();
    expect(outcomesToResume([op(0, "step:a:0", "retry_ready", { kind: "step" })], 1, ["step:a:0"], new Set(["step:a:0"]))).toBeNull();
  });

  test("a record the execution sent that history does not hold (it never committed) means no resume", () => {
    const ops = [op(1, "sleep:0", "completed", { resolvedSeq: 1 })];
    expect(outcomesToResume(ops, 2, ["sleep:0"], new Set(["now:0", "sleep:0"]))).toBeNull();
    expect(outcomesToResume(ops, 2, ["sleep:0"], new Set(["sleep:0"]))).toHaveLength(1);
  });
});
