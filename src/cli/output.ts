/**
 * CLI output: with `--json` the result goes to stdout as one JSON object and nothing else does;
 * otherwise consola prints for people on stderr/stdout. Errors end the process with the exit code
 * of their code (see the error-code table), as a message plus hint, or as the JSON error envelope.
 */
import { ERROR_CODES, newConsola, RunFailedError, VilanoError, type ErrorCode } from "../shared/index.ts";

export const ui = newConsola({ stderr: process.stderr, stdout: process.stdout });

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * A run that failed or was cancelled, as `--json` shows it beside the error: the command did not
 * get the output it was for, so `ok` is false, but the run and its error are the answer.
 */
function endedRun(error: RunFailedError) {
  return { id: error.runId, status: error.code === "cancelled" ? "cancelled" : "failed", error: error.cause };
}

/**
 * Runs a command body; expected errors become a clean message (or JSON) and an exit code. A run
 * that failed or was cancelled (`run start --wait`, `run result`) exits with its code from the
 * table (6 or 8), and with `--json` prints `{ ok: false, run, error }`.
 */
export async function runCommand(json: boolean | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const known = error instanceof VilanoError;
    const code: ErrorCode = known ? error.code : "internal";
    const message = known ? error.message : `unexpected error: ${(error as Error)?.message ?? String(error)}`;
    if (json && error instanceof RunFailedError) printJson({ ok: false, run: endedRun(error), error: { code, message } });
    else if (json) printJson({ ok: false, error: { code, message } });
    else {
      ui.error(message);
      if (known && error.hint) ui.info(error.hint);
      if (!known) console.error(error);
    }
    process.exit(ERROR_CODES[code].exit);
  }
}
