import { describe, expect, test } from "bun:test";
import { decodeRunCursor, encodeRunCursor, runPage } from "../../src/shared/index.ts";

const runs = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `run-${i}`, createdAt: 1_000 - i }));

describe("run list pages", () => {
  test("a cursor names where a page ended and reads back the same; anything else is refused by name", () => {
    const cursor = encodeRunCursor({ createdAt: 1_700_000_000_123, id: "svc:proj/counter:a b" });
    expect(decodeRunCursor(cursor)).toEqual({ createdAt: 1_700_000_000_123, id: "svc:proj/counter:a b" });
    for (const bad of ["", "12", "x.abc", "12.", "12.@@", `${cursor}=`, "012.YQ"]) {
      expect(() => decodeRunCursor(bad)).toThrow(`invalid cursor ${JSON.stringify(bad)}`);
    }
  });

  test("a page is read with one run more than it shows: only that one says more follow", () => {
    expect(runPage(runs(3), 3)).toEqual({ runs: runs(3) }); // exactly full: nothing after it
    expect(runPage(runs(2), 3)).toEqual({ runs: runs(2) });
    expect(runPage([], 3)).toEqual({ runs: [] });
    const page = runPage(runs(4), 3);
    expect(page.runs).toEqual(runs(3));
    expect(decodeRunCursor(page.nextCursor!)).toEqual(runs(3)[2]!);
  });
});
