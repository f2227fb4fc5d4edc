/** A daemon of the built executable in a temporary home, on a port the OS handed out, stopped by pid afterwards. */
import { expect } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive, loadConfig, signalProcess } from "../../src/shared/index.ts";
import { runCli, type CliResult } from "./binary.ts";
import { afterThisFile } from "./cleanup.ts";
import { tempDir } from "./temp-dir.ts";

/** A port nothing listens on right now (the OS picks it). */
export function freePort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

/** Alive and not a zombie (an exited process its parent has not reaped yet is dead). */
export const isAlive = isProcessAlive;

/** By pid, through the helper that refuses 0, 1 and the like (a daemon.json read half-written). */
function killDaemon(pid: number): void {
  try {
    signalProcess(pid, "SIGCONT");
    signalProcess(pid, "SIGKILL");
  } catch (error) {
    console.error(`could not kill the test daemon ${pid}:`, error);
  }
}

export interface TestDaemon {
  home: string;
  port: number;
  /** Where its activations' workspaces go (under its own TMPDIR, removed with the test's folders). */
  workspaces: string;
  /** What its commands get in their environment besides the home and the port (its TMPDIR among it). */
  env: Record<string, string>;
  cli(...args: string[]): CliResult;
  /** Like `cli`, with `stdin` written to the command's standard input. */
  cliWithStdin(stdin: string, ...args: string[]): CliResult;
  /** The pid in daemon.json (the daemon is remembered, and killed after the file's tests). */
  pid(): number;
  json<T = Record<string, unknown>>(...args: string[]): T;
}

export function testDaemon(env: Record<string, string> = {}): TestDaemon {
  const home = tempDir("vilano-home-");
  const port = freePort();
  // A TMPDIR of its own: the workspaces it makes (under TMPDIR by default) go with the test's folders.
  env = { TMPDIR: tempDir("vilano-tmp-"), ...env };
  const started = new Set<number>();
  // Registered after the home's removal, so it runs first: every daemon this home had, by pid.
  afterThisFile(() => {
    const path = join(home, "daemon.json");
    if (existsSync(path)) started.add((JSON.parse(readFileSync(path, "utf8")) as { pid: number }).pid);
    for (const pid of started) killDaemon(pid);
  });
  const daemon: TestDaemon = {
    home,
    port,
    workspaces: loadConfig({ VILANO_HOME: home, ...env }).workspaces,
    env,
    cli: (...args) => runCli(args, { home, env: { VILANO_PORT: String(port), ...env } }),
    cliWithStdin: (stdin, ...args) => runCli(args, { home, env: { VILANO_PORT: String(port), ...env }, stdin }),
    pid() {
      const pid = (JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number }).pid;
      started.add(pid);
      return pid;
    },
    json(...args) {
      const result = daemon.cli(...args, "--json");
      try {
        return JSON.parse(result.stdout);
      } catch {
        throw new Error(`vilano ${args.join(" ")} printed no JSON (exit ${result.exitCode}): ${result.stdout}${result.stderr}`);
      }
    },
  };
  return daemon;
}

/** The source of a project whose one workflow, `approval`, waits for the signal `approved`. */
const APPROVAL_SOURCE = `import { workflow } from "@vilano/runtime";\nexport const approval = workflow({ name: "approval", run: async (_i: void, ctx) => ctx.waitForSignal("approved") });\n`;

/** Makes a project with the `approval` workflow (`vilano init`) and adds it to `d` as `name`. */
export function addApprovalProject(d: TestDaemon, name = "w"): void {
  const project = tempDir("vilano-project-");
  mkdirSync(join(project, "src"));
  writeFileSync(join(project, "src", "wait.ts"), APPROVAL_SOURCE);
  expect(d.cli("init", project).exitCode).toBe(0);
  expect(d.cli("project", "add", project, "--name", name).exitCode).toBe(0);
}
