/**
 * Generates a manifest for an existing project (`vilano init .`) by scanning its sources for
 * `export const X = workflow(` and `export const X = service(`, reading each definition's `name`.
 */
import { readFileSync } from "node:fs";
import { basename, relative, sep } from "node:path";
import { VilanoError } from "../shared/index.ts";
import { projectFiles } from "./walk.ts";
import type { Manifest } from "./manifest.ts";

const SKIP_DIRS = new Set(["node_modules", ".git", ".vilano", "dist", "build", "coverage"]);
const SOURCE = /\.(ts|mts|tsx|js|mjs)$/;
const DEFINITION = /export\s+const\s+([A-Za-z_$][A-Za-z0-9_$]*)\s*=\s*(workflow|service)\s*\(\s*\{[\s\S]*?\bname\s*:\s*["'`]([^"'`]+)["'`]/g;

export interface ScannedDefinition {
  kind: "workflow" | "service";
  name: string;
  exportName: string;
  file: string;
}

function* sourceFiles(root: string): Generator<string> {
  for (const path of projectFiles(root, (entry) => SKIP_DIRS.has(entry) || entry.startsWith("."))) {
    const entry = basename(path);
    if (SOURCE.test(entry) && !/\.(test|spec|d)\.[a-z]+$/.test(entry)) yield path;
  }
}

const transpilers = {
  ts: new Bun.Transpiler({ loader: "ts" }),
  tsx: new Bun.Transpiler({ loader: "tsx" }),
  // Plain .js files may hold JSX (as bundlers allow): read them as JSX.
  js: new Bun.Transpiler({ loader: "jsx" }),
};
const transpilerFor = (path: string) => (path.endsWith(".tsx") ? transpilers.tsx : /\.m?js$/.test(path) ? transpilers.js : transpilers.ts);

/**
 * Finds the definitions exported by the project's source files, in file order. Bun's transpiler
 * reads each file first: the pattern then sees code without comments or types (a commented-out
 * definition is not one), and only names the file really exports count.
 */
export function scanDefinitions(projectDir: string): ScannedDefinition[] {
  const found: ScannedDefinition[] = [];
  for (const path of sourceFiles(projectDir)) {
    const transpiler = transpilerFor(path);
    let code: string;
    let exported: Set<string>;
    try {
      const text = readFileSync(path, "utf8");
      code = transpiler.transformSync(text);
      exported = new Set(transpiler.scan(text).exports);
    } catch (error) {
      throw new VilanoError("validation_failed", `${relative(projectDir, path)} could not be read as code: ${(error as Error).message}`, {
        details: { file: relative(projectDir, path) },
      });
    }
    for (const match of code.matchAll(DEFINITION)) {
      if (!exported.has(match[1]!)) continue;
      found.push({
        kind: match[2] as "workflow" | "service",
        exportName: match[1]!,
        name: match[3]!,
        file: relative(projectDir, path).split(sep).join("/"),
      });
    }
  }
  return found;
}

export function buildManifest(definitions: readonly ScannedDefinition[]): Manifest {
  const entry = (d: ScannedDefinition) => ({
    kind: d.kind,
    name: d.name,
    exportName: d.exportName,
    file: d.file,
    runtimeKind: "javascript" as const,
    sourceLanguage: /\.(ts|mts|tsx)$/.test(d.file) ? ("typescript" as const) : ("javascript" as const),
  });
  return {
    manifestVersion: 1,
    definitions: {
      workflows: definitions.filter((d) => d.kind === "workflow").map(entry) as Manifest["definitions"]["workflows"],
      services: definitions.filter((d) => d.kind === "service").map(entry) as Manifest["definitions"]["services"],
    },
  };
}
