/** Reads a child process's stdout line by line (the reader the worker pool uses); returns an unterminated last line. */
export { readLines } from "../../src/shared/index.ts";
