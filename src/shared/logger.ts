/**
 * One root consola logger; layers take a tagged child (`logger.withTag("kernel")`).
 * Logs go to stderr so stdout stays clean for `--json` output.
 */
import type { ConsolaInstance, ConsolaOptions } from "consola";
import type { LogLevel } from "./config.ts";

const LEVEL_NUMBER: Record<LogLevel, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4 };

export type Logger = ConsolaInstance;

/**
 * Fancy output (icons, colours) only for a person at a terminal: its reporter costs some 15 ms on
 * the first line, which a daemon writing to its log file would spend before its first answer.
 */
export function createLogger(level: LogLevel = "info"): Logger {
  return newConsola({ level: LEVEL_NUMBER[level], stdout: process.stderr, stderr: process.stderr, fancy: process.stderr.isTTY === true });
}

/**
 * consola, loaded when a logger is made, not when this module is: a worker loads `shared/` but never
 * logs through consola, whose import brings node:tty and node:util's inspect (about 2.5 ms of a
 * worker's start; docs/performance.md). Everything that makes one comes here (the CLI's output
 * too), so the executable holds and loads one build of consola, not its CommonJS and ESM ones both.
 */
export function newConsola(options: Partial<ConsolaOptions> & { fancy?: boolean }): ConsolaInstance {
  const { createConsola } = require("consola") as typeof import("consola");
  return createConsola(options);
}
