/**
 * Builds the files the executable carries besides code, as JSON bundles ({ path: content }), named
 * `.bundle` so `bun build --compile` embeds them as files (a `.json` entrypoint would become code):
 *   dist/sdk-types.bundle     — the SDK's type declarations, written into projects by `vilano init`
 *   dist/starter-agent.bundle — the starter project (starters/agent)
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readFileTree } from "../src/project/assets.ts";

const root = join(import.meta.dir, "..");
const dist = join(root, "dist");

export function buildSdkTypes(): Record<string, string> {
  const outDir = join(dist, "sdk-types");
  rmSync(outDir, { recursive: true, force: true });
  const tsconfig = join(dist, "tsconfig.sdk-types.json");
  mkdirSync(dist, { recursive: true });
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        target: "ESNext",
        module: "Preserve",
        moduleResolution: "bundler",
        lib: ["ESNext", "DOM"],
        types: ["bun"],
        typeRoots: [join(root, "node_modules", "@types")],
        strict: true,
        declaration: true,
        emitDeclarationOnly: true,
        allowImportingTsExtensions: true,
        skipLibCheck: true,
        resolveJsonModule: true,
        rootDir: join(root, "src"),
        outDir,
      },
      files: [join(root, "src", "sdk", "index.ts")],
    }),
  );
  const tsc = Bun.spawnSync([join(root, "node_modules", ".bin", "tsc"), "-p", tsconfig], { cwd: root, stdout: "pipe", stderr: "pipe" });
  if (tsc.exitCode !== 0) throw new Error(`emitting the SDK's declarations failed:\n${tsc.stdout}${tsc.stderr}`);
  return readFileTree(outDir);
}

if (import.meta.main) {
  mkdirSync(dist, { recursive: true });
  writeFileSync(join(dist, "sdk-types.bundle"), JSON.stringify(buildSdkTypes()));
  writeFileSync(join(dist, "starter-agent.bundle"), JSON.stringify(readFileTree(join(root, "starters", "agent"))));
  console.error("built dist/sdk-types.bundle and dist/starter-agent.bundle");
}
