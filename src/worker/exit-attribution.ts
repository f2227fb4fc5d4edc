/**
 * Knows which activation's code is running, so that when user code calls `process.exit()` the pool
 * can blame that activation alone instead of every activation the dying worker held. The marker
 * is written to stderr synchronously (an IPC message might not leave before the process does).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { writeSync } from "node:fs";
import { currentStepOpKey } from "../engine/index.ts";

const current = new AsyncLocalStorage<number>();

/** Prefix of the stderr line a worker writes just before user code exits it. */
export const EXIT_MARKER = "\u001evilano-exit ";

export function runAsActivation<T>(a: number, fn: () => T): T {
  return current.run(a, fn);
}

export function installExitAttribution(): void {
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => {
    const a = current.getStore();
    if (a !== undefined) {
      try {
        writeSync(2, `${EXIT_MARKER}${a} ${String(code ?? 0)} ${currentStepOpKey() ?? ""}\n`);
      } catch {
        // stderr gone: the pool blames every activation the worker held.
      }
    }
    return exit(code as number | undefined);
  }) as typeof process.exit;
}

/** The activation (and the step, when one was running) named by a stderr line, when it is an exit marker. */
export function parseExitMarker(line: string): { a: number; opKey: string | null } | null {
  if (!line.startsWith(EXIT_MARKER)) return null;
  const [a, , opKey] = line.slice(EXIT_MARKER.length).split(" ");
  const n = Number.parseInt(a ?? "", 10);
  return Number.isInteger(n) ? { a: n, opKey: opKey || null } : null;
}
