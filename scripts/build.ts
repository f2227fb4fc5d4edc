/**
 * Compiles the single executable `dist/vilano` with `bun build --compile`.
 * (Never `strip` the result: that breaks a compiled Bun executable.)
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const outfile = join(root, "dist", "vilano");
mkdirSync(join(root, "dist"), { recursive: true });

const started = performance.now();
const assets = Bun.spawnSync([process.execPath, join(root, "scripts", "build-assets.ts")], { cwd: root, stdout: "inherit", stderr: "inherit" });
if (assets.exitCode !== 0) process.exit(assets.exitCode ?? 1);
// The JSON bundles ride along as embedded files (Bun.embeddedFiles), read by src/project/assets.ts.
const embedded = [join(root, "dist", "sdk-types.bundle"), join(root, "dist", "starter-agent.bundle")];
const proc = Bun.spawnSync([process.execPath, "build", "--compile", "--bytecode", "--format=esm", "--minify", "--sourcemap", "--asset-naming=[name].[ext]", join(root, "src", "main.ts"), ...embedded, "--outfile", outfile], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(proc.exitCode ?? 1);
}
console.error(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
