/**
 * The dependency direction between the layers of src/ (docs/architecture.md): every import from
 * one top-level folder into another must follow a direct arrow of the table — a layer does not
 * inherit what the layers it imports may import — and a few packages may be imported only by their
 * owners. Every import form counts: static, `export … from`, `import()` with a string or a template
 * literal, and `require()`. `scripts/check-imports.ts` runs it; so does a test in `bun test`.
 *
 * Some entry files are held to more than their layer's arrows: nothing they load, however
 * indirectly, may be in a forbidden layer or package (CONFINED, checkConfinement). The worker's
 * child side is one: a worker process runs user code and talks to the daemon over IPC, so loading
 * the kernel or a store there would only cost start time (and open a way for user code to reach them).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";

/** Each layer and the layers it may import directly. */
export const DIRECT: Record<string, readonly string[]> = {
  shared: [],
  sdk: ["shared"],
  store: ["shared"],
  engine: ["shared", "sdk"],
  kernel: ["shared", "store"],
  core: ["shared", "sdk", "engine", "kernel", "store"],
  // The pool runs the kernel's activations: it knows their type (and the kernel's, to report).
  worker: ["shared", "sdk", "engine", "project", "core", "kernel"],
  project: ["shared", "sdk"],
  api: ["shared", "kernel"],
  client: ["shared", "api"],
  ui: ["shared", "api"],
  embedded: ["shared", "sdk", "core", "worker", "project"],
  runtime: ["shared", "sdk", "core", "worker", "kernel", "api", "project", "store", "ui"],
  cli: ["shared", "runtime", "project", "client"],
  "main.ts": ["cli", "worker", "shared"],
};

/** Files allowed an arrow their layer does not have, each with the reason. */
export const EXCEPTIONS: Record<string, { layers: readonly string[]; why: string }> = {
  "cli/daemon-control.ts": { layers: ["store"], why: "telling a busy daemon from a stopped one reads the database's owner without a daemon" },
  "cli/commands/doctor.ts": { layers: ["store"], why: "doctor checks (and with --fix repairs) the database itself, with no daemon" },
  "cli/commands/version.ts": { layers: ["store"], why: "version prints the schema version this build writes" },
  "cli/commands/worker.ts": { layers: ["worker"], why: "`vilano worker start` is worker mode, run by the person who starts it" },
};

/** Packages only some layers may import. */
export const OWNED_PACKAGES: Record<string, readonly string[]> = {
  "bun:sqlite": ["store"],
  hono: ["api", "client", "ui"],
  citty: ["cli", "main.ts"],
};

// `import … from "x"`, `export … from "x"`, `import "x"`, `import("x")`, `` import(`x`) ``, `require("x")`.
const IMPORT =
  /(?:^|[\s;{(])(?:import|export)\s[^'"`;]*?from\s*(["'`])([^"'`]+)\1|\bimport\(\s*(["'`])([^"'`$]+)\3\s*\)|\brequire\(\s*(["'`])([^"'`$]+)\5\s*\)|^\s*import\s+(["'])([^"']+)\7/gm;

const sourceFiles = (dir: string): string[] => [...new Bun.Glob("**/*.{ts,tsx}").scanSync({ cwd: dir, absolute: true })].sort();

/** The specifiers a source text imports, in every form. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[2] ?? m[4] ?? m[6] ?? m[8]!).filter(Boolean);
}

/** Every violation under `src` (empty when the layering holds), and how many files were read. */
export function checkImportDirection(src: string): { problems: string[]; checked: number } {
  const layerOf = (file: string): string => relative(src, file).split(sep)[0]!;
  const problems: string[] = [];
  let checked = 0;
  for (const file of sourceFiles(src)) {
    checked++;
    const layer = layerOf(file);
    const allowed = DIRECT[layer];
    if (!allowed) {
      problems.push(`${relative(src, file)}: folder "${layer}" is not a known layer; add it to scripts/import-direction.ts and docs/architecture.md`);
      continue;
    }
    for (const spec of importsOf(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec);
        if (!target.startsWith(src + sep)) continue; // package.json and the like
        const targetLayer = layerOf(target);
        const excepted = EXCEPTIONS[relative(src, file).split(sep).join("/")]?.layers.includes(targetLayer) === true;
        if (targetLayer !== layer && !allowed.includes(targetLayer) && !excepted) problems.push(`${relative(src, file)}: ${layer} must not import ${targetLayer} ("${spec}")`);
        continue;
      }
      const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      const owners = OWNED_PACKAGES[pkg];
      if (owners && !owners.includes(layer)) problems.push(`${relative(src, file)}: only ${owners.join(", ")} may import "${pkg}"`);
    }
  }
  return { problems, checked };
}

/**
 * Entry files whose whole graph of run-time imports must stay out of some layers and packages.
 * Type-only imports are erased before anything runs, so they do not count here (the layer arrows
 * above still apply to them).
 */
export interface Confinement {
  entries: readonly string[];
  forbiddenLayers: readonly string[];
  forbiddenPackages: readonly string[];
  why: string;
}

export const CONFINED: readonly Confinement[] = [
  {
    entries: ["worker/entry.ts", "worker/worker-main.ts", "worker/external-main.ts", "worker/parent-death.ts", "worker/exit-attribution.ts"],
    forbiddenLayers: ["kernel", "store"],
    forbiddenPackages: ["bun:sqlite"],
    why: "a worker process runs user code and reaches the daemon only over its channel: it loads neither the kernel nor a store (start time; docs/architecture.md)",
  },
];

const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };

/** What a source file loads when it runs (type-only imports are erased), in every form. */
export function runtimeImportsOf(file: string, text: string): string[] {
  return transpilers[file.endsWith(".tsx") ? "tsx" : "ts"].scanImports(text).map((i) => i.path);
}

const packageOf = (spec: string) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);

/**
 * Every file an entry of `rules` loads that is in a forbidden layer, and every forbidden package it
 * loads, each named with the chain of imports that reaches it; and how many files were followed.
 */
export function checkConfinement(src: string, rules: readonly Confinement[] = CONFINED): { problems: string[]; reached: number } {
  const name = (file: string) => relative(src, file).split(sep).join("/");
  const problems: string[] = [];
  const reachedFiles = new Set<string>();
  for (const rule of rules) {
    for (const entry of rule.entries) {
      const start = resolve(src, entry);
      if (!existsSync(start)) {
        problems.push(`${entry}: confined entry file is missing; update CONFINED in scripts/import-direction.ts`);
        continue;
      }
      // Breadth first, so the chain reported is a shortest one.
      const via = new Map<string, string | null>([[start, null]]);
      const chain = (file: string): string => {
        const steps: string[] = [];
        for (let at: string | null | undefined = file; at; at = via.get(at)) steps.unshift(name(at));
        return steps.join(" → ");
      };
      const queue = [start];
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        reachedFiles.add(next);
        for (const spec of runtimeImportsOf(next, readFileSync(next, "utf8"))) {
          if (!spec.startsWith(".")) {
            if (rule.forbiddenPackages.includes(packageOf(spec))) problems.push(`${entry} loads "${packageOf(spec)}": ${chain(next)} — ${rule.why}`);
            continue;
          }
          const target = resolve(dirname(next), spec);
          if (!target.startsWith(src + sep) || via.has(target)) continue;
          via.set(target, next);
          if (rule.forbiddenLayers.includes(name(target).split("/")[0]!)) {
            problems.push(`${entry} loads ${name(target)}: ${chain(target)} — ${rule.why}`);
            continue;
          }
          if (existsSync(target)) queue.push(target);
          else problems.push(`${name(next)}: cannot find "${spec}"`);
        }
      }
    }
  }
  return { problems, reached: reachedFiles.size };
}
