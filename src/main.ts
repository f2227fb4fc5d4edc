/**
 * Executable entry. Help and version go through citty's runMain; everything else through
 * runCommand, so argument errors become our own clear message (or, with `--json`, the JSON error
 * envelope on stdout) and the `validation_failed` exit code.
 */
import { runCommand, runMain, showUsage } from "citty";
import { rootCommand } from "./cli/index.ts";
import { ERROR_CODES } from "./shared/index.ts";

const rawArgs = process.argv.slice(2);
const wantsHelp = rawArgs.length === 0 || rawArgs.some((a) => a === "--help" || a === "-h" || a === "--version");

if (wantsHelp) {
  await runMain(rootCommand);
} else {
  try {
    await runCommand(rootCommand, { rawArgs });
  } catch (error) {
    // Errors from command bodies are handled inside them; what arrives here is citty's argument parsing.
    const message = ((error as Error)?.message ?? String(error)).replace(/\x1b\[[0-9;]*m/g, "");
    if (rawArgs.includes("--json")) {
      process.stdout.write(`${JSON.stringify({ ok: false, error: { code: "validation_failed", message } })}\n`);
    } else {
      await showUsage(rootCommand).catch(() => {});
      process.stderr.write(`${message}\n`);
    }
    process.exit(ERROR_CODES.validation_failed.exit);
  }
}
