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
const proc = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--sourcemap", join(root, "src", "main.ts"), "--outfile", outfile], {
  cwd: root,
  stdout: "inherit",
  stderr: "inherit",
});
if (proc.exitCode !== 0) {
  console.error(`build failed (exit ${proc.exitCode})`);
  process.exit(proc.exitCode ?? 1);
}
console.error(`built ${outfile} in ${Math.round(performance.now() - started)} ms`);
