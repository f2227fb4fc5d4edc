import { describe, expect, test } from "bun:test";
import { createInstanceRefs } from "../../src/runtime/instance-refs.ts";

describe("instance refs", () => {
  test("gives back what was kept, and nothing for an instance never found", () => {
    const refs = createInstanceRefs<string>(4);
    refs.remember("svc:p/S:a", "ref a");
    expect(refs.get("svc:p/S:a")).toBe("ref a");
    expect(refs.get("svc:p/S:b")).toBeUndefined();
  });

  test("past its size drops the instance kept longest, and a ref kept again counts as new", () => {
    const refs = createInstanceRefs<string>(2);
    refs.remember("a", "1");
    refs.remember("b", "2");
    refs.remember("a", "1 again");
    refs.remember("c", "3");
    expect([refs.get("a"), refs.get("b"), refs.get("c")]).toEqual(["1 again", undefined, "3"]);
  });

  test("refuses a size that is not a positive integer, naming it", () => {
    expect(() => createInstanceRefs(0)).toThrow("positive integer, got 0");
    expect(() => createInstanceRefs(1.5)).toThrow("positive integer, got 1.5");
  });
});
