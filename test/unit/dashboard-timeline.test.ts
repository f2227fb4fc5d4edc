import { describe, expect, test } from "bun:test";
import type { EventInfo, OpInfo, RunInfo } from "../../src/shared/index.ts";
import { buildTimeline, humanDuration } from "../../src/ui/timeline.ts";

const run = (over: Partial<RunInfo> = {}): RunInfo => ({ id: "r", kind: "workflow", name: "flow", status: "completed", createdAt: 1_000, updatedAt: 2_000, finishedAt: 2_000, ...over });
const op = (opKey: string, kind: OpInfo["kind"], status: OpInfo["status"], attempt = 1): OpInfo => ({ opKey, seq: 0, kind, name: opKey, status, attempt });
const ev = (seq: number, type: EventInfo["type"], at: number, body: Record<string, unknown> = {}): EventInfo => ({ seq, type, at, ...body });

describe("the run page's timeline", () => {
  test("a step's attempt runs from the event before it; a failed attempt, its backoff and the retry are drawn apart", () => {
    const t = buildTimeline(
      {
        run: run(),
        ops: [op("a", "step", "completed", 2)],
        events: [
          ev(1, "run_started", 1_000),
          ev(2, "step_attempt_failed", 1_100, { opKey: "a", attempt: 1 }),
          ev(3, "retry_scheduled", 1_100, { opKey: "a", nextAttempt: 2, wakeAt: 1_600 }),
          ev(4, "timer_fired", 1_600, { opKey: "a", purpose: "retry" }),
          ev(5, "step_completed", 1_700, { opKey: "a", attempt: 2 }),
        ],
      },
      9_999,
    );
    expect(t.start).toBe(1_000);
    expect(t.end).toBe(2_000);
    expect(t.rows[0]!.spans).toEqual([
      { kind: "attempt", start: 1_000, end: 1_100, failed: true, label: "attempt 1 failed" },
      { kind: "backoff", start: 1_100, end: 1_600, label: "backoff before attempt 2" },
      { kind: "attempt", start: 1_600, end: 1_700, failed: false, label: "attempt 2" },
    ]);
    expect(t.rows[0]!.failures).toEqual([1_100]);
  });

  test("an open wait of a running run is drawn up to now, and marked open", () => {
    const t = buildTimeline(
      {
        run: run({ status: "waiting", finishedAt: undefined }),
        ops: [op("s", "signal", "waiting"), op("z", "sleep", "completed"), op("c", "connect", "completed")],
        events: [
          ev(1, "timer_scheduled", 1_010, { opKey: "z", durationMs: 50 }),
          ev(2, "timer_fired", 1_060, { opKey: "z" }),
          ev(3, "service_connected", 1_070, { opKey: "c" }),
          ev(4, "signal_wait_started", 1_080, { opKey: "s" }),
        ],
      },
      5_000,
    );
    const [signal, sleep, connect] = t.rows;
    expect(signal!.spans).toEqual([{ kind: "wait", start: 1_080, end: 5_000, label: 'waits for signal "s"', open: true }]);
    expect(sleep!.spans).toEqual([{ kind: "wait", start: 1_010, end: 1_060, label: "sleep 50 ms" }]);
    expect(connect!.spans).toEqual([{ kind: "mark", start: 1_070, end: 1_070, label: "service_connected" }]);
    expect(t.end).toBe(5_000);
  });

  test("durations read as a person would say them", () => {
    expect([850, 2_400, 12_500, 185_000, 7_800_000].map(humanDuration)).toEqual(["850 ms", "2.40 s", "12.5 s", "3 min 5 s", "2 h 10 min"]);
  });
});
