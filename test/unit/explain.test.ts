import { describe, expect, test } from "bun:test";
import { explainRun } from "../../src/cli/render/explain.ts";
import { explainOp } from "../../src/kernel/index.ts";
import type { AnyRunStatus, OpInfo, RunInfo } from "../../src/shared/index.ts";

const NOW = 1_800_000_000_000;
const run = (status: AnyRunStatus, extra: Partial<RunInfo> = {}): RunInfo => ({ id: "run_1", kind: "workflow", name: "flow", status, createdAt: NOW, updatedAt: NOW, ...extra });
type OpSketch = Omit<OpInfo, "seq" | "error"> & { error?: { message: string } };
/** Ops as inspect returns them: each open one explained by its kind's module. */
const viewed = (ops: OpSketch[]): OpInfo[] =>
  ops.map((op, seq) => {
    const info = { seq, ...op } as OpInfo;
    const waitingFor = explainOp(info, NOW, "run_1");
    return waitingFor === undefined ? info : { ...info, waitingFor };
  });

describe("explainRun", () => {
  test("names each open wait of a waiting run in words, with its due time", () => {
    const text = explainRun(
      {
        run: run("waiting"),
        ops: viewed([
          { opKey: "sleep:0", kind: "sleep", name: "sleep", status: "waiting", attempt: 1, wakeAt: NOW + 30_000 },
          { opKey: "signal:approved:0", kind: "signal", name: "approved", status: "waiting", attempt: 1 },
          { opKey: "ask:reviewer.status:0", kind: "ask", name: "reviewer.status", status: "waiting", attempt: 1, meta: { serviceRunId: "svc:a/reviewer:k" } },
          { opKey: "step:charge:0", kind: "step", name: "charge", status: "retry_wait", attempt: 2, wakeAt: NOW + 5_000, error: { message: "card service down" } },
          { opKey: "step:done:0", kind: "step", name: "done", status: "completed", attempt: 1 },
          { opKey: "child_result:fetch:0", kind: "child_result", name: "fetch", status: "waiting", attempt: 1, meta: { childRunId: "run_1~a" } },
        ]),
        signals: [{ id: 1, name: "other", status: "buffered", createdAt: NOW }],
        children: [{ id: "run_1~a", name: "fetch", status: "waiting", createdAt: NOW }],
      },
    );
    expect(text.split("\n")).toEqual([
      "workflow flow run_1 is waiting:",
      `  - sleeping (sleep:0); wakes in 30s, at ${new Date(NOW + 30_000).toISOString()}`,
      '  - waiting for signal "approved" (no timeout) — send it with `vilano signal send run_1 approved`',
      "  - waiting for the reply to reviewer.status from svc:a/reviewer:k",
      `  - step "charge" failed on attempt 2 (card service down); attempt 3 runs in 5s, at ${new Date(NOW + 5_000).toISOString()}`,
      '  - waiting for child workflow "fetch" run_1~a to finish — `vilano run explain run_1~a` says what it waits for (the child is waiting)',
      "  buffered signals not yet consumed: other",
    ]);
  });

  test("says how a finished run ended", () => {
    expect(explainRun({ run: run("failed", { error: { name: "StepFailedError", family: "application", retryable: false, message: "boom", code: "step_failed" } }), ops: [] })).toBe(
      "workflow flow run_1 is failed: boom (step_failed).",
    );
    expect(explainRun({ run: run("completed"), ops: [] })).toContain("`vilano run result run_1` prints its output");
  });

  test("names the ops whose code was hard-stopped or crashed its worker", () => {
    const text = explainRun({
      run: run("failed", { error: { name: "WorkerCrashedError", family: "application", retryable: false, message: "run run_1 crashed its worker 3 times in a row", code: "worker_crashed" }, crashes: 0 }),
      ops: viewed([
        { opKey: "step:spin:0", kind: "step", name: "spin", status: "completed", attempt: 2, forcedTerminations: 1 },
        { opKey: "step:exit:0", kind: "step", name: "exit", status: "interrupted", attempt: 1, workerCrashes: 3 },
      ]),
    });
    expect(text.split("\n")).toEqual([
      "workflow flow run_1 is failed: run run_1 crashed its worker 3 times in a row (worker_crashed).",
      '  - step "spin" blocked its worker past its timeout 1 time(s); the worker was killed each time (hard stop)',
      '  - step "exit" ended its worker process 3 time(s) (a worker crash costs an attempt; 3 in a row fail the run)',
    ]);
  });

  test("a running run says which worker its code is on, and when that worker is blocked, by which run's step", () => {
    expect(explainRun({ run: run("running"), ops: [] })).toBe("workflow flow run_1 is running: its code is running now.");
    expect(explainRun({ run: run("running"), ops: [], worker: { pid: 4242 } })).toBe("workflow flow run_1 is running: its code is running now in worker 4242.");
    const blocker = { runId: "run_2", step: "loop", opKey: "step:loop:0" };
    expect(explainRun({ run: run("running"), ops: [], worker: { pid: 4242, blockedForMs: 12_345, blockedBy: [blocker] } })).toBe(
      'workflow flow run_1 is running: it waits on worker 4242, which has answered nothing for 12s: it is blocked by run run_2 (step "loop"). ' +
        "Its code runs once that ends (a cancel of the blocking run ends it).",
    );
    expect(explainRun({ run: run("running", { id: "run_2" }), ops: [], worker: { pid: 4242, blockedForMs: 3_000, blockedBy: [blocker] } })).toBe(
      'workflow flow run_2 is running: its step "loop" is blocking worker 4242: the worker has answered nothing for 3s. Work sent to it waits, and new work goes to spare workers. ' +
        "A step without a timeout is never stopped by the runtime: give it one, or `vilano run cancel run_2` ends it.",
    );
    // Code that loops outside any step (before its first op): named as the blocker, beside a run waiting in a step.
    const early = { runId: "run_3" };
    expect(explainRun({ run: run("running", { id: "run_3" }), ops: [], worker: { pid: 4242, blockedForMs: 3_000, blockedBy: [early] } })).toContain(
      "its code (outside any step) is blocking worker 4242: the worker has answered nothing for 3s.",
    );
    expect(explainRun({ run: run("running"), ops: [], worker: { pid: 4242, blockedForMs: 3_000, blockedBy: [{ runId: "run_1", step: "wait", opKey: "step:wait:0" }, early] } })).toContain(
      'worker 4242 is blocked by run run_1 (step "wait") or run run_3 (code outside a step)',
    );
  });
});
