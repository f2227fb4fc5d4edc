import { describe, expect, test } from "bun:test";
import { childRunId, hash32, idPart, isValidName, isValidRunId, memberRunId, newRunId, unitFromText } from "../../src/shared/ids.ts";

describe("newRunId", () => {
  test("has the run_ prefix and 26 lower-case Crockford base32 characters", () => {
    expect(newRunId()).toMatch(/^run_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
  });

  test("encodes the time in the first ten characters", () => {
    // 32^2 + 2*32 + 3 = 1091 → "...0123" in base32
    expect(newRunId(1_091).slice(4, 14)).toBe("0000000123");
  });

  test("gives the same time prefix for the same millisecond", () => {
    expect(newRunId(1_700_000_000_000).slice(0, 14)).toBe(newRunId(1_700_000_000_000).slice(0, 14));
  });

  test("differs in its random tail for the same millisecond", () => {
    const ids = new Set(Array.from({ length: 100 }, () => newRunId(1_700_000_000_000)));
    expect(ids.size).toBe(100);
  });

  test("sorts by creation time", () => {
    const times = [1, 31, 32, 1_000, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 2 ** 45];
    const ids = times.map((t) => newRunId(t));
    expect([...ids].reverse().sort()).toEqual(ids);
  });

  test("keeps its shape for a fractional time from a custom clock", () => {
    // The kernel calls newRunId(clock.now()), and the clock is injectable (embedded runtime option).
    expect(newRunId(1_700_000_000_000.5)).toMatch(/^run_[0-9abcdefghjkmnpqrstvwxyz]{26}$/);
  });

  test("is accepted as a run id", () => {
    expect(isValidRunId(newRunId())).toBe(true);
  });
});

describe("isValidRunId", () => {
  test("accepts letters, digits and _ . : -", () => {
    expect(["a", "order-123", "Order_1.2:x", "9lives"].map(isValidRunId)).toEqual([true, true, true, true]);
  });

  test("accepts 200 characters", () => {
    expect(isValidRunId("a".repeat(200))).toBe(true);
  });

  test("rejects 201 characters", () => {
    expect(isValidRunId("a".repeat(201))).toBe(false);
  });

  test("rejects the empty string", () => {
    expect(isValidRunId("")).toBe(false);
  });

  test("rejects a leading punctuation character", () => {
    expect(["-a", "_a", ".a", ":a"].map(isValidRunId)).toEqual([false, false, false, false]);
  });

  test("rejects spaces, slashes and other characters", () => {
    expect(["a b", "a/b", "a?b", "ä", "a\tb"].map(isValidRunId)).toEqual([false, false, false, false, false]);
  });

  test("rejects a trailing newline", () => {
    expect(isValidRunId("abc\n")).toBe(false);
  });
});

describe("isValidName", () => {
  test("accepts identifiers with dots and dashes", () => {
    expect(["send", "_private", "billing.charge", "send-email", "v2_step"].map(isValidName)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  test("accepts 128 characters", () => {
    expect(isValidName("a".repeat(128))).toBe(true);
  });

  test("rejects 129 characters", () => {
    expect(isValidName("a".repeat(129))).toBe(false);
  });

  test("rejects the empty string", () => {
    expect(isValidName("")).toBe(false);
  });

  test("rejects a leading digit", () => {
    expect(isValidName("1step")).toBe(false);
  });

  test("rejects a leading dash or dot", () => {
    expect(["-a", ".a"].map(isValidName)).toEqual([false, false]);
  });

  test("rejects a colon, which implicit op keys use as separator", () => {
    expect(isValidName("a:b")).toBe(false);
  });

  test("rejects spaces and slashes", () => {
    expect(["a b", "a/b"].map(isValidName)).toEqual([false, false]);
  });
});

describe("hash32", () => {
  test("matches the FNV-1a reference values", () => {
    expect([hash32(""), hash32("a"), hash32("foobar")]).toEqual([0x811c9dc5, 0xe40c292c, 0xbf9cf968]);
  });
});

describe("unitFromText", () => {
  test("stays within [0, 1)", () => {
    for (let i = 0; i < 2_000; i++) {
      const u = unitFromText(`seed:${i}`);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
    }
  });

  test("returns the same number for the same text", () => {
    expect(unitFromText("run_abc:step:a:0#2")).toBe(unitFromText("run_abc:step:a:0#2"));
  });

  test("returns different numbers for nearby texts", () => {
    expect(unitFromText("x#1")).not.toBe(unitFromText("x#2"));
  });

  test("spreads values over the interval", () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(unitFromText(`k${i}`) * 10)]!++;
    for (const count of buckets) {
      expect(count).toBeGreaterThan(800);
      expect(count).toBeLessThan(1_200);
    }
  });
});

const SHA_PREFIX = "39021306bfa34811afd3241f";

describe("derived child and member ids", () => {
  test("keep plain keys readable and hash the rest with SHA-256, stable across versions", () => {
    expect(childRunId("run_p", { key: "fetch:x", opKey: "spawn:w:0", fresh: false })).toBe("run_p~fetch:x");
    // sha256("https://a.example/x"), first 24 hex digits: fixed here so a change of hash is caught.
    expect(childRunId("run_p", { key: "https://a.example/x", opKey: "spawn:w:0", fresh: false })).toBe(`run_p~=${SHA_PREFIX}`);
    expect(idPart("a.b")).toMatch(/^=[0-9a-f]{24}$/);
  });

  test("never collide across namespaces: keys, op keys, fresh children and member restarts", () => {
    const ids = [
      childRunId("p", { key: "spawn:child:0", opKey: "spawn:child:1", fresh: false }),
      childRunId("p", { opKey: "spawn:child:0", fresh: false }),
      childRunId("p", { key: "a", opKey: "spawn:child:0", fresh: true }),
      childRunId("p", { key: "a@spawn:child:0", opKey: "x", fresh: false }),
      memberRunId("p", "g", "a", 1),
      memberRunId("p", "g", "a.r1", 0),
      memberRunId("p", "g.a", "r1", 0),
      childRunId("p", { key: "g.a.r1", opKey: "x", fresh: false }),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});
