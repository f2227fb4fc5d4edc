import { thrownBy } from "../helpers/thrown-by.ts";
import { describe, expect, test } from "bun:test";
import { VilanoError } from "../../src/shared/errors.ts";
import { findNonJson, fromOptionalJson, toJson, toOptionalJson } from "../../src/shared/json.ts";


class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe("findNonJson", () => {
  test("accepts strings, booleans, finite numbers and null", () => {
    expect([findNonJson("a"), findNonJson(true), findNonJson(-1.5), findNonJson(null)]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("accepts nested plain objects and arrays", () => {
    expect(findNonJson({ a: [1, "two", { b: null, c: [true] }], d: {} })).toBeUndefined();
  });

  test("accepts an object without a prototype", () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.a = 1;
    expect(findNonJson(bare)).toBeUndefined();
  });

  test("accepts the same object referenced twice without a cycle", () => {
    const shared = { n: 1 };
    expect(findNonJson({ a: shared, b: shared, c: [shared, shared] })).toBeUndefined();
  });

  test("allows object properties holding undefined", () => {
    expect(findNonJson({ a: 1, b: undefined, c: { d: undefined } })).toBeUndefined();
  });

  test("refuses undefined at the top", () => {
    expect(findNonJson(undefined)).toEqual({ path: "$", reason: "undefined is not JSON" });
  });

  test("refuses undefined inside an array with its index", () => {
    expect(findNonJson([1, undefined])?.path).toBe("$[1]");
  });

  test("refuses a hole in a sparse array", () => {
    // eslint-disable-next-line no-sparse-arrays
    expect(findNonJson([1, , 3])?.path).toBe("$[1]");
  });

  test("refuses a function", () => {
    expect(findNonJson({ f: () => 1 })).toEqual({ path: "$.f", reason: "a function is not JSON" });
  });

  test("refuses a bigint", () => {
    expect(findNonJson({ n: 10n })?.path).toBe("$.n");
    expect(findNonJson({ n: 10n })?.reason).toContain("bigint");
  });

  test("refuses a symbol", () => {
    expect(findNonJson([Symbol("s")])).toEqual({ path: "$[0]", reason: "a symbol is not JSON" });
  });

  test("refuses NaN", () => {
    expect(findNonJson({ x: Number.NaN })).toEqual({ path: "$.x", reason: "NaN is not a JSON number" });
  });

  test("refuses Infinity", () => {
    expect(findNonJson({ x: Number.NEGATIVE_INFINITY })).toEqual({ path: "$.x", reason: "-Infinity is not a JSON number" });
  });

  test("refuses a Date and suggests an ISO string", () => {
    const bad = findNonJson({ at: new Date(0) });
    expect(bad?.path).toBe("$.at");
    expect(bad?.reason).toContain("a Date instance");
    expect(bad?.reason).toContain("toISOString()");
  });

  test("refuses a Map", () => {
    expect(findNonJson({ m: new Map() })?.reason).toBe("a Map instance is not plain JSON");
  });

  test("refuses a class instance by its class name", () => {
    expect(findNonJson([new Point(1, 2)])).toEqual({ path: "$[0]", reason: "a Point instance is not plain JSON" });
  });

  test("refuses a circular reference at the point it closes", () => {
    const a: Record<string, unknown> = { b: {} };
    (a.b as Record<string, unknown>).back = a;
    expect(findNonJson(a)).toEqual({ path: "$.b.back", reason: "a circular reference is not JSON" });
  });

  test("refuses an array that contains itself", () => {
    const list: unknown[] = [1];
    list.push(list);
    expect(findNonJson(list)?.path).toBe("$[1]");
  });

  test("reports the full path of a deeply nested bad value", () => {
    expect(findNonJson({ a: [0, { b: () => 0 }] })?.path).toBe("$.a[1].b");
  });

  test("reports the first bad value in order", () => {
    expect(findNonJson({ a: 1, b: Number.NaN, c: 10n })?.path).toBe("$.b");
  });
});

describe("toJson", () => {
  test("serialises a plain value", () => {
    expect(toJson({ a: [1, "x", null], b: true }, "input")).toBe('{"a":[1,"x",null],"b":true}');
  });

  test("drops object properties holding undefined", () => {
    expect(toJson({ a: 1, b: undefined }, "input")).toBe('{"a":1}');
  });

  test("throws not_serializable naming what and the path", () => {
    const error = thrownBy(() => toJson({ a: [0, { b: new Date(0) }] }, "step result"));
    expect(error).toBeInstanceOf(VilanoError);
    expect((error as VilanoError).code).toBe("not_serializable");
    expect((error as VilanoError).message).toStartWith("step result is not JSON-serialisable: at $.a[1].b, a Date instance");
  });

  test("puts the path and reason in details", () => {
    const error = thrownBy(() => toJson([undefined], "input")) as VilanoError;
    expect(error.details).toEqual({ path: "$[0]", reason: "undefined is not JSON" });
  });

  test("refuses undefined at the top", () => {
    expect((thrownBy(() => toJson(undefined, "input")) as VilanoError).code).toBe("not_serializable");
  });

  test("refuses a circular reference instead of overflowing", () => {
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect((thrownBy(() => toJson(loop, "input")) as VilanoError).message).toContain("at $.self, a circular reference");
  });
});

describe("toOptionalJson", () => {
  test("returns null for undefined", () => {
    expect(toOptionalJson(undefined, "output")).toBeNull();
  });

  test("serialises null as the text null", () => {
    expect(toOptionalJson(null, "output")).toBe("null");
  });

  test("serialises a value like toJson", () => {
    expect(toOptionalJson({ a: 1 }, "output")).toBe('{"a":1}');
  });

  test("refuses a non-JSON value", () => {
    expect((thrownBy(() => toOptionalJson({ f: Symbol() }, "output")) as VilanoError).code).toBe("not_serializable");
  });

  test("round-trips undefined through fromOptionalJson", () => {
    expect(fromOptionalJson(toOptionalJson(undefined, "output"))).toBeUndefined();
  });

  test("round-trips a value through fromOptionalJson", () => {
    expect(fromOptionalJson(toOptionalJson({ a: [1, null] }, "output"))).toEqual({ a: [1, null] });
  });
});
