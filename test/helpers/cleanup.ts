/**
 * Cleanup of what a test file made (temp folders, daemons), run when the next file starts using
 * the helpers and, for the last file, at the end of the run (test/helpers/preload.ts).
 *
 * Why not `afterAll` in the helpers: bun test evaluates a helper module once for the whole run, so
 * an `afterAll` at its top level belongs to the first file that imported it, and every later
 * file's folders and daemons would be left behind. Files run one after another, so "a new file
 * asked for something" means the previous file is done.
 */
let currentFile: string | undefined;
const pending: (() => void)[] = [];

export function runCleanups(): void {
  for (const cleanup of pending.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // Best effort: one failed cleanup must not keep the others from running.
    }
  }
}

const atEnd: (() => Promise<void> | void)[] = [];

/** Runs `cleanup` once, when the whole test run ends (what every file shared). */
export function atRunEnd(cleanup: () => Promise<void> | void): void {
  atEnd.push(cleanup);
}

/** The run-end cleanups, after the last file's (test/helpers/preload.ts). */
export async function runEndCleanups(): Promise<void> {
  runCleanups();
  for (const cleanup of atEnd.splice(0).reverse()) {
    try {
      await cleanup();
    } catch {
      // Best effort, as above.
    }
  }
}

/** Runs `cleanup` once the current test file is done. */
export function afterThisFile(cleanup: () => void): void {
  if (currentFile !== Bun.main) {
    runCleanups();
    currentFile = Bun.main;
  }
  pending.push(cleanup);
}
