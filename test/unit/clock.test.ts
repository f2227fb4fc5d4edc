import { describe, expect, test } from "bun:test";
import { createManualClock } from "../../src/shared/clock.ts";

describe("createManualClock", () => {
  test("starts at the given time", () => {
    expect(createManualClock(5_000).now()).toBe(5_000);
  });

  test("moves time forward on advance", () => {
    const clock = createManualClock(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
  });

  test("sets time on set", () => {
    const clock = createManualClock(1_000);
    clock.set(9_000);
    expect(clock.now()).toBe(9_000);
  });

  test("does not fire a timer before it is due", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("t"), 100);
    clock.advance(99);
    expect(fired).toEqual([]);
  });

  test("fires a timer when time reaches its due time", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("t"), 100);
    clock.advance(100);
    expect(fired).toEqual(["t"]);
  });

  test("fires a timer only once", () => {
    const clock = createManualClock(0);
    let count = 0;
    clock.setTimer(() => count++, 10);
    clock.advance(10);
    clock.advance(10);
    expect(count).toBe(1);
  });

  test("fires due timers in due order, not creation order", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("c"), 300);
    clock.setTimer(() => fired.push("a"), 100);
    clock.setTimer(() => fired.push("b"), 200);
    clock.advance(1_000);
    expect(fired).toEqual(["a", "b", "c"]);
  });

  test("fires timers due at the same time in creation order", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("first"), 50);
    clock.setTimer(() => fired.push("second"), 50);
    clock.advance(50);
    expect(fired).toEqual(["first", "second"]);
  });

  test("fires only the timers that are due", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("soon"), 10);
    clock.setTimer(() => fired.push("later"), 1_000);
    clock.advance(500);
    expect(fired).toEqual(["soon"]);
  });

  test("fires due timers when time is set", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("t"), 100);
    clock.set(100);
    expect(fired).toEqual(["t"]);
  });

  test("treats a negative delay as zero", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("t"), -50);
    clock.advance(0);
    expect(fired).toEqual(["t"]);
  });

  test("does not fire a cleared timer", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    const handle = clock.setTimer(() => fired.push("cleared"), 10);
    clock.setTimer(() => fired.push("kept"), 10);
    clock.clearTimer(handle);
    clock.advance(10);
    expect(fired).toEqual(["kept"]);
  });

  test("does not fire a timer cleared by an earlier timer in the same advance", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    let later: unknown;
    clock.setTimer(() => {
      fired.push("first");
      clock.clearTimer(later);
    }, 10);
    later = clock.setTimer(() => fired.push("second"), 20);
    clock.advance(100);
    expect(fired).toEqual(["first"]);
  });

  test("ignores clearing an unknown handle", () => {
    const clock = createManualClock(0);
    const fired: string[] = [];
    clock.setTimer(() => fired.push("t"), 10);
    clock.clearTimer(12_345);
    clock.advance(10);
    expect(fired).toEqual(["t"]);
  });

  test("gives each timer its own handle", () => {
    const clock = createManualClock(0);
    const a = clock.setTimer(() => {}, 10);
    const b = clock.setTimer(() => {}, 10);
    expect(a).not.toBe(b);
  });
});
