import { thrownBy } from "../helpers/thrown-by.ts";
import { describe, expect, test } from "bun:test";
import { formatDuration, formatTime, parseDuration } from "../../src/shared/duration.ts";
import { VilanoError } from "../../src/shared/errors.ts";

/** Runs `fn`, expects it to throw, and returns what it threw. */

describe("parseDuration", () => {
  test("parses milliseconds", () => {
    expect(parseDuration("250ms")).toBe(250);
  });

  test("parses seconds", () => {
    expect(parseDuration("2s")).toBe(2_000);
  });

  test("parses minutes", () => {
    expect(parseDuration("5m")).toBe(300_000);
  });

  test("parses hours", () => {
    expect(parseDuration("1h")).toBe(3_600_000);
  });

  test("parses days", () => {
    expect(parseDuration("1d")).toBe(86_400_000);
  });

  test("parses a minutes-and-seconds compound", () => {
    expect(parseDuration("1m30s")).toBe(90_000);
  });

  test("parses an hours-minutes-seconds compound", () => {
    expect(parseDuration("1h2m3s")).toBe(3_723_000);
  });

  test("parses a compound that ends in milliseconds", () => {
    expect(parseDuration("1s250ms")).toBe(1_250);
  });

  test("parses a compound that uses every unit", () => {
    expect(parseDuration("1d1h1m1s1ms")).toBe(86_400_000 + 3_600_000 + 60_000 + 1_000 + 1);
  });

  test("parses a decimal amount", () => {
    expect(parseDuration("1.5s")).toBe(1_500);
  });

  test("rounds a fractional millisecond result to a whole number", () => {
    expect(parseDuration("1.5ms")).toBe(2);
  });

  test("ignores surrounding whitespace", () => {
    expect(parseDuration("  2s ")).toBe(2_000);
  });

  test("accepts a number of milliseconds as is", () => {
    expect(parseDuration(1_234)).toBe(1_234);
  });

  test("accepts zero", () => {
    expect(parseDuration(0)).toBe(0);
  });

  test("rounds a fractional number of milliseconds", () => {
    expect(parseDuration(1.6)).toBe(2);
  });

  test("rejects an unknown unit with validation_failed naming the value", () => {
    const error = thrownBy(() => parseDuration("5x"));
    expect(error).toBeInstanceOf(VilanoError);
    expect((error as VilanoError).code).toBe("validation_failed");
    expect((error as VilanoError).message).toContain('"5x"');
  });

  test("rejects the empty string", () => {
    const error = thrownBy(() => parseDuration("")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('""');
  });

  test("rejects a string of only whitespace", () => {
    const error = thrownBy(() => parseDuration("   ")) as VilanoError;
    expect(error.code).toBe("validation_failed");
  });

  test("rejects a unit used twice", () => {
    const error = thrownBy(() => parseDuration("1s1s")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"1s1s"');
  });

  test("rejects units in the wrong order", () => {
    const error = thrownBy(() => parseDuration("30s1m")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"30s1m"');
  });

  test("rejects a bare number inside a string", () => {
    const error = thrownBy(() => parseDuration("100")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"100"');
  });

  test("rejects a negative string duration", () => {
    const error = thrownBy(() => parseDuration("-1s")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"-1s"');
  });

  test("rejects trailing garbage after a valid part", () => {
    const error = thrownBy(() => parseDuration("1s abc")) as VilanoError;
    expect(error.code).toBe("validation_failed");
  });

  test("rejects a decimal point without digits after it", () => {
    const error = thrownBy(() => parseDuration("1.s")) as VilanoError;
    expect(error.code).toBe("validation_failed");
  });

  test("rejects a negative number", () => {
    const error = thrownBy(() => parseDuration(-1)) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("-1");
  });

  test("rejects NaN", () => {
    const error = thrownBy(() => parseDuration(Number.NaN)) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("NaN");
  });

  test("rejects Infinity", () => {
    const error = thrownBy(() => parseDuration(Number.POSITIVE_INFINITY)) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("Infinity");
  });

  test("rejects null", () => {
    const error = thrownBy(() => parseDuration(null)) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("null");
  });

  test("rejects undefined", () => {
    const error = thrownBy(() => parseDuration(undefined)) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("undefined");
  });

  test("rejects an object", () => {
    const error = thrownBy(() => parseDuration({})) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("[object Object]");
  });

  test("rejects an object without a prototype with validation_failed", () => {
    // String(Object.create(null)) throws a TypeError; the rejection must still be a VilanoError.
    const error = thrownBy(() => parseDuration(Object.create(null)));
    expect(error).toBeInstanceOf(VilanoError);
    expect((error as VilanoError).code).toBe("validation_failed");
  });

  test("rejects a string with a trailing unitless number", () => {
    const error = thrownBy(() => parseDuration("1h30")) as VilanoError;
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain('"1h30"');
  });

  test("rejects a total beyond the safe integer range", () => {
    const error = thrownBy(() => parseDuration("999999999999999d")) as VilanoError;
    expect(error.code).toBe("validation_failed");
  });

  test("names what was being parsed in the message", () => {
    const error = thrownBy(() => parseDuration("soon", "sleep duration")) as VilanoError;
    expect(error.message).toStartWith('invalid sleep duration "soon"');
  });

  test("carries the bad value in details", () => {
    const error = thrownBy(() => parseDuration("5x")) as VilanoError;
    expect(error.details).toEqual({ value: "5x" });
  });
});

describe("formatDuration", () => {
  test("formats less than a second as milliseconds", () => {
    expect(formatDuration(250)).toBe("250ms");
  });

  test("formats zero as 0ms", () => {
    expect(formatDuration(0)).toBe("0ms");
  });

  test("formats a whole number of seconds", () => {
    expect(formatDuration(2_000)).toBe("2s");
  });

  test("formats minutes and seconds as a compound", () => {
    expect(formatDuration(90_000)).toBe("1m30s");
  });

  test("formats hours, minutes and seconds as a compound", () => {
    expect(formatDuration(3_723_000)).toBe("1h2m3s");
  });

  test("formats a whole day", () => {
    expect(formatDuration(86_400_000)).toBe("1d");
  });

  test("keeps leftover milliseconds above a second", () => {
    expect(formatDuration(1_500)).toBe("1s500ms");
  });

  test("skips zero units in the middle", () => {
    expect(formatDuration(3_600_005)).toBe("1h5ms");
  });

  test("round-trips through parseDuration", () => {
    const samples = [0, 1, 999, 1_000, 1_001, 59_999, 90_000, 3_723_000, 86_400_000, 90_061_001, 123_456_789];
    expect(samples.map((ms) => parseDuration(formatDuration(ms)))).toEqual(samples);
  });

  test("round-trips a parsed compound back to its text", () => {
    expect(formatDuration(parseDuration("1d2h3m4s5ms"))).toBe("1d2h3m4s5ms");
  });
});

describe("duration bounds", () => {
  test("durations past 100 years are refused with the value shown, whatever their form", () => {
    expect(() => parseDuration("100000d", "sleep duration")).toThrow('sleep duration "100000d" is too long: at most 36500d (100 years)');
    expect(() => parseDuration(1e15)).toThrow("is too long");
    expect(() => parseDuration(1e308)).toThrow("is too long");
    expect(parseDuration("36500d")).toBe(36_500 * 86_400_000);
  });

  test("formatTime survives any number", () => {
    expect(formatTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatTime(1e20)).toBe("100000000000000000000 (not a valid time)");
    expect(formatTime(Number.NaN)).toBe("NaN (not a valid time)");
  });
});
