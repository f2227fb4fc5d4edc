/** Runs the built executable `dist/vilano` in a temporary VILANO_HOME with a normalised environment. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./temp-dir.ts";

export const BINARY = join(import.meta.dir, "..", "..", "dist", "vilano");

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { home?: string; env?: Record<string, string>; cwd?: string; stdin?: string } = {}): CliResult {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: build it first with \`bun run build\``);
  const home = options.home ?? tempDir("vilano-home-");
  const proc = Bun.spawnSync([BINARY, ...args], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, VILANO_HOME: home, NO_COLOR: "1", TZ: "UTC", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
    ...(options.stdin !== undefined ? { stdin: Buffer.from(options.stdin) } : {}),
  });
  return { exitCode: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}
