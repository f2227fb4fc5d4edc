/** `bun run check-imports`: exits non-zero listing every import that breaks the layering (scripts/import-direction.ts). */
import { resolve } from "node:path";
import { checkImportDirection } from "./import-direction.ts";

const { problems, checked } = checkImportDirection(resolve(import.meta.dir, "..", "src"));
if (problems.length > 0) {
  console.error(`import-direction check failed (${problems.length}):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error(`import-direction check: ${checked} files ok`);
