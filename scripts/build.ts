/**
 * Compiles the single executable `dist/vilano` with `bun build --compile`.
 * (Never `strip` the result: that breaks a compiled Bun executable.)
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "vilano");
mkdirSync(join(root, "dist"), { recursive: true });
// Source maps are this command's output alone, and the chunks' names carry hashes: the last build's go first.
for (const name of readdirSync(join(root, "dist"))) if (name.endsWith(".map")) rmSync(join(root, "dist", name));

const started = performance.now();
const assets = Bun.spawnSync([process.execPath, join(root, "scripts", "build-assets.ts")], { cwd: root, stdout: "inherit", stderr: "inherit" });
if (assets.exitCode !== 0) process.exit(assets.exitCode ?? 1);
// The JSON bundles ride along as embedded files (Bun.embeddedFiles), read by src/project/assets.ts.
const embedded = [join(root, "dist", "sdk-types.bundle"), join(root, "dist", "starter-agent.bundle")];
// --splitting: each `import()` of src/main.ts (worker mode, the CLI) is a chunk of its own inside the
// executable, with the built-in modules it imports. In one chunk every built-in module any mode uses
// (readline, tty, util's inspect — consola's —, streams…) was loaded at every start: a worker
// started in 17 ms, now 13 (spawn → ready, median of 20 alternating; docs/performance.md).
const proc = Bun.spawnSync([process.execPath, "build", "--compile", "--bytecode", "--format=esm", "--minify", "--sourcemap", "--splitting", "--asset-naming=[name].[ext]", join(root, "src", "main.ts"), ...embedded, "--outfile", outfile], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(proc.exitCode ?? 1);
}
console.error(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
