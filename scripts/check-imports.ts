/**
 * Checks the dependency direction between the layers of src/ (docs/architecture.md): every import
 * from one top-level folder into another must follow an allowed arrow (or a chain of them), and a
 * few packages may be imported only by their one owner (bun:sqlite by store/, hono by api/ and
 * client/). Exits non-zero listing every violation.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const SRC = resolve(import.meta.dir, "..", "src");

/** Direct arrows: each layer and the layers it may import. Chains are allowed (closure below). */
const DIRECT: Record<string, string[]> = {
  shared: [],
  sdk: ["shared"],
  store: ["shared"],
  engine: ["shared", "sdk"],
  kernel: ["shared", "store"],
  core: ["shared", "sdk", "engine", "kernel", "store"],
  worker: ["shared", "sdk", "engine", "project", "core"],
  project: ["shared", "sdk"],
  api: ["shared", "kernel"],
  client: ["shared", "api"],
  embedded: ["shared", "sdk", "core", "worker"],
  runtime: ["shared", "core", "worker", "kernel", "api", "project"],
  cli: ["shared", "runtime", "project", "client"],
  "main.ts": ["cli", "worker", "shared"],
};

/** Packages only some layers may import. */
const OWNED_PACKAGES: Record<string, string[]> = {
  "bun:sqlite": ["store"],
  hono: ["api", "client"],
  citty: ["cli", "main.ts"],
};

function closure(layer: string, seen = new Set<string>()): Set<string> {
  for (const dep of DIRECT[layer] ?? []) {
    if (!seen.has(dep)) {
      seen.add(dep);
      closure(dep, seen);
    }
  }
  return seen;
}

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|tsx)$/.test(entry)) yield path;
  }
}

const layerOf = (file: string): string => relative(SRC, file).split(sep)[0]!;
const IMPORT = /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^import\s+["']([^"']+)["']/gm;

const problems: string[] = [];
let checked = 0;
for (const file of sourceFiles(SRC)) {
  checked++;
  const layer = layerOf(file);
  if (!(layer in DIRECT)) {
    problems.push(`${relative(SRC, file)}: folder "${layer}" is not a known layer; add it to scripts/check-imports.ts and docs/architecture.md`);
    continue;
  }
  const allowed = closure(layer);
  const text = readFileSync(file, "utf8");
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2] ?? match[3]!;
    if (spec.startsWith(".")) {
      const target = resolve(dirname(file), spec);
      if (!target.startsWith(SRC + sep)) continue; // package.json and the like
      const targetLayer = layerOf(target);
      if (targetLayer !== layer && !allowed.has(targetLayer)) {
        problems.push(`${relative(SRC, file)}: ${layer} must not import ${targetLayer} ("${spec}")`);
      }
      continue;
    }
    const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
    const owners = OWNED_PACKAGES[pkg];
    if (owners && !owners.includes(layer)) problems.push(`${relative(SRC, file)}: only ${owners.join(", ")} may import "${pkg}"`);
  }
}

if (problems.length > 0) {
  console.error(`import-direction check failed (${problems.length}):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.error(`import-direction check: ${checked} files ok`);
