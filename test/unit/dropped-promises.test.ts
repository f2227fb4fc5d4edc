import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { floatingPromises } from "../../scripts/check-promises.ts";
import { tempDir } from "../helpers/temp-dir.ts";

const SAMPLE = `
interface Store { putOp(op: number): Promise<void>; getRun(id: string): Promise<number | null>; size(): number }
async function wake(id: string): Promise<void> {}
const again = wake;
function sync(id: string): number { return 1; }
function after(effect: () => void): void { effect(); }
export async function command(store: Store, ids: Set<string>, cond: boolean, open: Promise<void> | null) {
  store.putOp(1);
  if (ids.size > 0) wake("a");
  again("b");
  cond ? wake("c") : sync("d");
  cond && wake("e");
  [1, 2].forEach(async (n) => { await store.putOp(n); });
  after(async () => { await wake("f"); });
  if (store.getRun("x")) sync("y");
  await store.putOp(2);
  void wake("g");
  store.size();
  wake("h").catch(() => {});
  while (open) await open;
  return wake("i");
}
`;

describe("the dropped-promise check", () => {
  test("finds promises nobody awaits, async callbacks where nothing is awaited and promises as conditions, and nothing else", () => {
    const dir = tempDir("vilano-promises-");
    writeFileSync(join(dir, "sample.ts"), SAMPLE);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "ESNext", module: "ESNext", lib: ["ESNext"], types: [] }, include: ["."] }));
    const found = floatingPromises(join(dir, "tsconfig.json"), dir).map((line) => line.replace(/^.*sample\.ts:/, "").replace(/: .*$/, ""));
    expect(found).toEqual(["8", "9", "10", "11", "12", "13", "14", "15"]);
  });

  test("src/ drops no promise", () => {
    expect(floatingPromises()).toEqual([]);
  }, 60_000);
});
