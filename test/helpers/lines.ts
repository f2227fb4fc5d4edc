/**
 * Lines for tests: of a child process's stdout as it comes (the reader the worker pool uses), and
 * of a file that another process may be writing right now.
 */
import { readFileSync } from "node:fs";

/** Reads a child process's stdout line by line; returns an unterminated last line. */
export { readLines } from "../../src/shared/index.ts";

/**
 * The complete lines of a file: those that end in a newline. A file that does not exist yet, or
 * exists but is empty, has none; and neither is a trailing partial line one yet. A writer's
 * `appendFileSync` creates the file before it writes, so a reader in between sees "" — split
 * naively that is `[""]`, and `Number("")` is 0: a "pid" that signals the whole process group.
 */
export function fileLines(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const end = text.lastIndexOf("\n");
  return end < 0 ? [] : text.slice(0, end).split("\n");
}

/** The complete lines of a file whose every line is a pid, as numbers; a line that is not a pid is an error naming it. */
export function filePids(path: string): number[] {
  return fileLines(path).map((line) => {
    const pid = Number(line);
    if (line.trim() === "" || !Number.isSafeInteger(pid) || pid <= 1) throw new Error(`${path}: ${JSON.stringify(line)} is not a pid`);
    return pid;
  });
}
