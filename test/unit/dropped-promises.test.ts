import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { floatingPromises } from "../../scripts/check-promises.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const SAMPLE = `
interface Store {
  putOp(op: number): Promise<void>;
  getRun(id: string): number;
}
async function wake(id: string): Promise<void> {}
const again = wake;
function sync(id: string): number { return 1; }
async function command(store: Store, ids: Set<string>, rows: Store) {
  store.putOp(1);
  if (ids.size > 0) wake("a");
  again("b");
  await store.putOp(2);
  void wake("c");
  rows.getRun("x");
  ids.add("y");
  sync("z");
  wake("d").catch(() => {});
  return wake("e");
}
`;

describe("the dropped-promise check", () => {
  test("finds calls whose promise goes nowhere, and nothing else", () => {
    const dir = tempDir("vilano-promises-");
    writeFileSync(join(dir, "sample.ts"), SAMPLE);
    const found = floatingPromises(dir).map((line) => line.replace(/^.*sample\.ts:/, ""));
    expect(found).toEqual(["10: store.putOp(1);", '11: if (ids.size > 0) wake("a");', '12: again("b");']);
  });

  test("src/ drops no promise", () => {
    expect(floatingPromises()).toEqual([]);
  });
});
