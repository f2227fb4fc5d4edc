import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkImportDirection, importsOf } from "../../scripts/import-direction.ts";
import { tempDir } from "../helpers/temp-dir.ts";

describe("import direction", () => {
  test("src/ follows the layering", () => {
    const { problems, checked } = checkImportDirection(join(import.meta.dir, "..", "..", "src"));
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });

  test("every import form is seen", () => {
    const text = [
      'import { a } from "./a.ts";',
      'export { b } from "./b.ts";',
      'import "./c.ts";',
      'const d = await import("./d.ts");',
      "const e = await import(`./e.ts`);",
      'const f = require("./f.ts");',
      "import type { G } from './g.ts';",
    ].join("\n");
    expect(importsOf(text)).toEqual(["./a.ts", "./b.ts", "./c.ts", "./d.ts", "./e.ts", "./f.ts", "./g.ts"]);
  });

  test("only direct arrows count: cli may not reach the store through runtime, in any form", () => {
    const src = tempDir("vilano-layers-");
    for (const layer of ["cli", "store", "runtime"]) mkdirSync(join(src, layer));
    writeFileSync(join(src, "store", "db.ts"), "export const db = 1;\n");
    writeFileSync(join(src, "runtime", "ok.ts"), 'import { db } from "../store/db.ts";\nexport const x = db;\n');
    writeFileSync(join(src, "cli", "sneaky.ts"), "const m = await import(`../store/db.ts`);\nconst n = require(\"../store/db.ts\");\n");
    expect(checkImportDirection(src).problems).toEqual([
      'cli/sneaky.ts: cli must not import store ("../store/db.ts")',
      'cli/sneaky.ts: cli must not import store ("../store/db.ts")',
    ]);
  });
});
