/** Writes a throwaway project (sources plus a generated vilano.manifest.json) into a temp folder. */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { buildManifest, scanDefinitions } from "../../src/project/index.ts";
import { tempDir } from "./temp-dir.ts";

export function writeProject(files: Record<string, string>, dir = tempDir("vilano-project-")): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  writeFileSync(join(dir, "vilano.manifest.json"), JSON.stringify(buildManifest(scanDefinitions(dir)), null, 2));
  return dir;
}
