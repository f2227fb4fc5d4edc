/** Temporary directories for tests, removed after each test file. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterThisFile } from "./cleanup.ts";

export function tempDir(prefix = "vilano-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterThisFile(() => {
    // Sealed snapshots are read-only folders; make them writable again so they can be removed.
    Bun.spawnSync(["chmod", "-R", "u+w", dir]);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function tempDatabase(): string {
  return join(tempDir(), "runtime.sqlite");
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(5);
  }
}
