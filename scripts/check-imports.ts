/** `bun run check-imports`: exits non-zero listing every import that breaks the layering (scripts/import-direction.ts). */
import { resolve } from "node:path";
import { checkConfinement, checkImportDirection } from "./import-direction.ts";

const src = resolve(import.meta.dir, "..", "src");
const { problems: layering, checked } = checkImportDirection(src);
const { problems: confinement, reached } = checkConfinement(src);
const problems = [...layering, ...confinement];
if (problems.length > 0) {
  console.error(`import-direction check failed (${problems.length}):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error(`import-direction check: ${checked} files ok; the worker's child side loads ${reached} files, none of the kernel or a store`);
