/**
 * The kernel's recovery after a failed commit (kernel/failed-commit-recovery.ts), on a manual
 * clock: at once after a first failure, then with a growing wait while the recovery itself cannot
 * commit or failures come back soon; nothing before the kernel has opened or after it closed.
 */
import { describe, expect, test } from "bun:test";
import { createFailedCommitRecovery } from "../../src/kernel/failed-commit-recovery.ts";
import { createLogger, createManualClock } from "../../src/shared/index.ts";
import type { RunRow } from "../../src/store/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

/** A recovery whose commits fail while `failing` is true; it counts its tries and what it handed over. */
function harness() {
  const clock = createManualClock();
  const state = { failing: false, tries: 0, recovered: [] as RunRow[][] };
  const pendingRun = { id: "r1" } as RunRow;
  const recovery = createFailedCommitRecovery({
    clock,
    log: createLogger("silent"),
    recover: async () => {
      state.tries++;
      if (state.failing) throw new Error("database or disk is full");
      return [pendingRun];
    },
    recovered: async (pending) => void state.recovered.push(pending),
  });
  return { clock, state, recovery };
}

/** Lets the recovery's promises settle (its retries are timers on the manual clock). */
const settle = () => Bun.sleep(0);

describe("recovery after a failed commit", () => {
  test("does nothing before the kernel has opened (a failed batch then is open's own)", async () => {
    const { state, recovery } = harness();
    recovery.failed(new Error("full"));
    await settle();
    expect(state.tries).toBe(0);
  });

  test("recovers at once after a first failure and hands the pending runs over", async () => {
    const { state, recovery } = harness();
    recovery.start();
    recovery.failed(new Error("full"));
    await eventually(() => (state.recovered.length === 1 ? true : undefined), 5_000, "the recovery to be handed over");
    expect(state.tries).toBe(1);
    expect(state.recovered[0]!.map((run) => run.id)).toEqual(["r1"]);
  });

  test("a recovery that cannot commit is tried again after 200 ms, then 400 ms", async () => {
    const { clock, state, recovery } = harness();
    recovery.start();
    state.failing = true;
    recovery.failed(new Error("full"));
    await eventually(() => (state.tries === 1 ? true : undefined), 5_000, "the first try");
    await settle();
    clock.advance(199);
    await settle();
    expect(state.tries).toBe(1);
    clock.advance(1);
    await eventually(() => (state.tries === 2 ? true : undefined), 5_000, "the try after 200 ms");
    await settle();
    clock.advance(399);
    await settle();
    expect(state.tries).toBe(2);
    state.failing = false;
    clock.advance(1);
    await eventually(() => (state.recovered.length === 1 ? true : undefined), 5_000, "the try after 400 ms to recover");
    expect(state.tries).toBe(3);
  });

  test("a failure soon after the last one waits before recovering", async () => {
    const { clock, state, recovery } = harness();
    recovery.start();
    recovery.failed(new Error("full"));
    await eventually(() => (state.recovered.length === 1 ? true : undefined), 5_000, "the first recovery");
    clock.advance(1_000);
    recovery.failed(new Error("full again"));
    await settle();
    expect(state.tries).toBe(1);
    clock.advance(200);
    await eventually(() => (state.recovered.length === 2 ? true : undefined), 5_000, "the second recovery, 200 ms later");
  });

  test("stop cancels a pending retry", async () => {
    const { clock, state, recovery } = harness();
    recovery.start();
    state.failing = true;
    recovery.failed(new Error("full"));
    await eventually(() => (state.tries === 1 ? true : undefined), 5_000, "the first try");
    await settle();
    recovery.stop();
    clock.advance(60_000);
    await settle();
    expect(state.tries).toBe(1);
  });
});
