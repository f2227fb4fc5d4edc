import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkConfinement, checkImportDirection, importsOf, type Confinement } from "../../scripts/import-direction.ts";
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

  test("the worker's child side loads neither the kernel nor a store", () => {
    const { problems, reached } = checkConfinement(join(import.meta.dir, "..", "..", "src"));
    expect(problems).toEqual([]);
    // The engine, the SDK and the project loader at least: a graph this small means the scan lost its way.
    expect(reached).toBeGreaterThan(40);
  });

  test("a confined entry that reaches a forbidden layer or package through other files is named with the chain", () => {
    const src = tempDir("vilano-confined-");
    for (const layer of ["worker", "core", "kernel", "store"]) mkdirSync(join(src, layer));
    const rule: Confinement = { entries: ["worker/child.ts"], forbiddenLayers: ["kernel", "store"], forbiddenPackages: ["bun:sqlite"], why: "kept light" };
    writeFileSync(join(src, "kernel", "k.ts"), "export const k = 1;\n");
    writeFileSync(join(src, "store", "s.ts"), 'import { Database } from "bun:sqlite";\nexport const s = Database;\n');
    writeFileSync(join(src, "core", "light.ts"), "export const light = 1;\n");
    // Allowed for core by the layer table, but the child reaches it through core.
    writeFileSync(join(src, "core", "barrel.ts"), 'export { k } from "../kernel/k.ts";\nexport { light } from "./light.ts";\n');
    writeFileSync(join(src, "worker", "child.ts"), 'import { light } from "../core/light.ts";\nimport type { S } from "../store/s.ts";\nexport const x = light;\n');
    expect(checkConfinement(src, [rule]).problems).toEqual([]);

    writeFileSync(join(src, "worker", "helper.ts"), 'import { k } from "../core/barrel.ts";\nexport const h = k;\n');
    writeFileSync(join(src, "worker", "child.ts"), 'const { h } = await import("./helper.ts");\nexport const x = h;\n');
    writeFileSync(join(src, "worker", "other.ts"), 'import { Database } from "bun:sqlite";\nexport const d = Database;\n');
    expect(checkConfinement(src, [{ ...rule, entries: ["worker/child.ts", "worker/other.ts"] }]).problems).toEqual([
      "worker/child.ts loads kernel/k.ts: worker/child.ts → worker/helper.ts → core/barrel.ts → kernel/k.ts — kept light",
      'worker/other.ts loads "bun:sqlite": worker/other.ts — kept light',
    ]);
  });

  test("a confined entry that is missing is a problem, not a pass", () => {
    const src = tempDir("vilano-confined-");
    const rule: Confinement = { entries: ["worker/gone.ts"], forbiddenLayers: ["kernel"], forbiddenPackages: [], why: "kept light" };
    expect(checkConfinement(src, [rule]).problems).toEqual(["worker/gone.ts: confined entry file is missing; update CONFINED in scripts/import-direction.ts"]);
  });
});
