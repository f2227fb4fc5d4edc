/**
 * How to start this program in worker mode: the compiled executable runs itself with `__worker`;
 * from source, Bun runs the worker entry script (Bun.main is then whatever script started us, or a
 * test file, so the entry is named explicitly).
 */
import { join } from "node:path";

export const WORKER_MODE_ARG = "__worker";

export function workerCommand(): string[] {
  const compiled = import.meta.path.startsWith("/$bunfs/") || Bun.main.startsWith("/$bunfs/");
  return compiled ? [process.execPath, WORKER_MODE_ARG] : [process.execPath, join(import.meta.dir, "entry.ts")];
}
