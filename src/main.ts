/**
 * Executable entry. `__worker` starts worker mode (the daemon's pool runs this same executable);
 * help and version go through citty's runMain; everything else through runCommand, so argument
 * errors become our own clear message (or, with `--json`, the JSON error envelope on stdout) and
 * the `validation_failed` exit code.
 */
import { WORKER_MODE_ARG } from "./worker/worker-command.ts";

const rawArgs = process.argv.slice(2);

if (rawArgs[0] === WORKER_MODE_ARG) {
  // Loaded lazily: a worker needs neither the CLI nor the daemon.
  const { runWorkerProcess } = await import("./worker/worker-main.ts");
  runWorkerProcess(rawArgs.slice(1));
} else {
  await runCli();
}

/**
 * A reader that closed its end (`vilano run list | head -1`) is not an error of ours: end quietly,
 * as Unix tools do, instead of printing an EPIPE stack trace.
 */
function endQuietlyOnClosedPipe(): void {
  // Not for the long-running modes (the daemon, `dev`, a worker): an EPIPE there is no reason to end.
  const [command, sub] = rawArgs;
  if (command === "dev" || command === "worker" || (command === "daemon" && sub === "run")) return;
  const onError = (error: { code?: string }) => {
    if (error?.code === "EPIPE") process.exit(0);
    throw error;
  };
  process.stdout.on("error", onError);
  process.on("uncaughtException", (error: Error & { code?: string }) => {
    if (error.code === "EPIPE") process.exit(0);
    process.stderr.write(`${error.stack ?? String(error)}\n`);
    process.exit(70);
  });
}

async function runCli(): Promise<void> {
  endQuietlyOnClosedPipe();
  const { stripVTControlCharacters } = await import("node:util");
  const { runCommand, runMain, showUsage } = await import("citty");
  const { rootCommand } = await import("./cli/index.ts");
  const { ERROR_CODES } = await import("./shared/index.ts");
  const wantsHelp = rawArgs.length === 0 || rawArgs.some((a) => a === "--help" || a === "-h" || a === "--version");
  if (wantsHelp) {
    await runMain(rootCommand);
    return;
  }
  const { findUnknownFlag } = await import("./cli/strict-flags.ts");
  const { commandPath, findUnknownCommand, unknownCommandMessage } = await import("./cli/strict-commands.ts");
  const refuse = (message: string): never => {
    if (rawArgs.includes("--json")) process.stdout.write(`${JSON.stringify({ ok: false, error: { code: "validation_failed", message } })}\n`);
    else process.stderr.write(`${message}\n`);
    process.exit(ERROR_CODES.validation_failed.exit);
  };
  // A word that names no command comes first: its flags cannot be judged without the command.
  const unknownCommand = findUnknownCommand(rootCommand, rawArgs);
  if (unknownCommand) refuse(unknownCommandMessage(unknownCommand));
  const unknown = findUnknownFlag(rootCommand, rawArgs);
  if (unknown) {
    const known = unknown.known.length > 0 ? unknown.known.map((n) => `--${n}`).join(", ") : "none";
    const meant = unknown.meant ? `: write ${unknown.meant}` : "";
    refuse(`unknown option ${unknown.flag} for \`${unknown.command}\`${meant} (its options: ${known})`);
  }
  try {
    await runCommand(rootCommand, { rawArgs });
  } catch (error) {
    // Errors from command bodies are handled inside them; what arrives here is citty's argument parsing.
    const message = stripVTControlCharacters((error as Error)?.message ?? String(error));
    if (!rawArgs.includes("--json")) {
      const { command, parent } = commandPath(rootCommand, rawArgs);
      await showUsage(command, parent).catch(() => {});
    }
    refuse(message);
  }
}
