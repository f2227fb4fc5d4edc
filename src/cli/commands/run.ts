/** `run start|list|result|inspect|replay|explain|cancel|logs`. */
import { defineCommand } from "citty";
import { durationAsGiven, formatTime, pageSizeProblem, parseDuration, projectNameProblem, RunFailedError, runStatusProblem, VilanoError, type FailureBody } from "../../shared/index.ts";
import { ensureDaemon, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { parseInputFlag } from "../input.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { explainRun } from "../render/explain.ts";
import { renderInspection } from "../render/inspect.ts";
import { renderTimeline } from "../render/timeline.ts";
import { resolveTarget } from "../target.ts";
import { json } from "./common.ts";

const id = { type: "positional", required: true, description: "Run id" } as const;
const client = daemonClient;

/** Refuses a flag's value that `problem` finds wrong, naming the flag. */
function checkFlag(flag: string, value: string | undefined, problem: (value: string) => string | undefined): void {
  const wrong = value === undefined ? undefined : problem(value);
  if (wrong) throw new VilanoError("validation_failed", `${flag} ${wrong}`, { details: { flag, value } });
}

const readSubcommands = {
  list: defineCommand({
    meta: { name: "list", description: "List runs (newest first)" },
    args: {
      project: { type: "string" },
      status: { type: "string" },
      limit: { type: "string", description: "Runs per page (default 100)" },
      cursor: { type: "string", description: "Where the previous page ended (its next cursor)" },
      json,
      timeout: timeoutArg,
    },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        // Checked here as the API checks them: a filter no run can match is an error, not an empty list.
        checkFlag("--status", args.status, runStatusProblem);
        checkFlag("--project", args.project, projectNameProblem);
        checkFlag("--limit", args.limit, pageSizeProblem);
        const limit = args.limit === undefined ? undefined : Number(args.limit);
        const page = await client().runs.listPage({
          ...(args.project ? { project: args.project } : {}),
          ...(args.status ? { status: args.status } : {}),
          ...(limit !== undefined ? { limit } : {}),
          ...(args.cursor ? { cursor: args.cursor } : {}),
        });
        if (args.json) return printJson({ ok: true, runs: page.runs, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) });
        for (const r of page.runs) ui.log(`${r.id}  ${r.name.padEnd(24)} ${r.status.padEnd(10)} ${formatTime(r.createdAt)}`);
        if (page.nextCursor) ui.log(`more: vilano run list --cursor ${page.nextCursor}`);
      }),
  }),
  result: defineCommand({
    meta: { name: "result", description: "Print a run's output (with --wait, wait for it)" },
    args: { id, wait: { type: "boolean" }, timeout: { type: "string", description: "With --wait: stop waiting for the run after this long (it goes on); without, how long to wait for the daemon" }, json },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        // With --wait, --timeout bounds the wait for the run; the daemon keeps the usual time to answer.
        setRequestTimeout(args.wait ? undefined : args.timeout);
        const c = client();
        if (!args.wait) {
          const { run } = await c.runs.inspect(args.id);
          if (run.status !== "completed" && run.status !== "failed" && run.status !== "cancelled") {
            throw new VilanoError("wait_timeout", `run ${args.id} is ${run.status}; it has no result yet`, { hint: "pass --wait to wait for it" });
          }
        }
        // A failed or cancelled run throws RunFailedError: runCommand prints it with `"ok": false`.
        const output = await c.runs.result(args.id, args.timeout === undefined ? {} : { timeout: args.timeout });
        if (args.json) return printJson({ ok: true, run: { id: args.id, status: "completed", output } });
        process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      }),
  }),
  inspect: defineCommand({
    meta: { name: "inspect", description: "Show a run: status, input, output or error, ops, waits, mailbox" },
    args: { id, json, timeout: timeoutArg },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        const inspection = await client().runs.inspect(args.id);
        if (args.json) return printJson(inspection);
        process.stdout.write(`${renderInspection(inspection)}\n`);
      }),
  }),
  explain: defineCommand({
    meta: { name: "explain", description: "Say where a run is stuck and why" },
    args: { id, json, timeout: timeoutArg },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        const inspection = await client().runs.inspect(args.id);
        const text = explainRun(inspection);
        if (args.json) return printJson({ ok: true, explanation: text });
        process.stdout.write(`${text}\n`);
      }),
  }),
  logs: defineCommand({
    meta: { name: "logs", description: "Print a run's ctx.log lines and subprocess output (with --follow, as they come, until it finishes)" },
    args: { id, follow: { type: "boolean" }, json, timeout: timeoutArg },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        const print = (e: { at: number; message?: unknown; fields?: unknown }) =>
          args.json
            ? printJson(e)
            : process.stdout.write(`${formatTime(e.at)}  ${String(e.message)}${e.fields === undefined ? "" : `  ${JSON.stringify(e.fields)}`}\n`);
        // Subprocess output as it comes: each chunk printed as it is, labelled by its op.
        const printOutput = (e: { [fact: string]: unknown }) =>
          args.json ? printJson(e) : process.stdout.write(String(e.text).replace(/^(?=.)/gm, `[${String(e.opKey)} ${String(e.stream)}] `));
        if (!args.follow) {
          const { events, ops } = await client().runs.inspect(args.id);
          for (const e of events) if (e.type === "log") print(e);
          for (const op of ops) {
            if (op.kind !== "exec" || typeof op.result !== "object" || op.result === null || Array.isArray(op.result)) continue;
            for (const stream of ["stdout", "stderr"] as const) {
              const text = op.result[stream];
              if (typeof text === "string" && text) printOutput({ opKey: op.opKey, stream, text: text.replace(/\n?$/, "\n") });
            }
          }
          return;
        }
        for await (const e of client().runs.events(args.id)) {
          if (e.type === "log") print(e);
          else if (e.type === "exec_output") printOutput(e);
        }
      }),
  }),
  replay: defineCommand({
    meta: { name: "replay", description: "Print a run's event timeline" },
    args: { id, json, timeout: timeoutArg },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        const { events } = await client().runs.inspect(args.id);
        if (args.json) return printJson({ ok: true, events });
        process.stdout.write(`${renderTimeline(events)}\n`);
      }),
  }),
  cancel: defineCommand({
    meta: { name: "cancel", description: "Cancel a run" },
    args: { id, reason: { type: "string" }, json, timeout: timeoutArg },
    run: ({ args }) =>
      runCommand(args.json, async () => {
        setRequestTimeout(args.timeout);
        await ensureDaemon();
        const run = await client().runs.cancel(args.id, args.reason);
        if (args.json) return printJson({ ok: true, run });
        ui.success(`run ${run.id} is ${run.status}`);
      }),
  }),
};

/** How long `run start --wait` waits in its first request. */
const START_WAIT_MS = 25_000;

/**
 * The output of a run a start already waited for, or (still running) its result waited for now,
 * until `deadline`. Past it, the error names the wait as the user gave it (`--timeout 35s`), not
 * the milliseconds left for the last request.
 */
async function finished(
  client: ReturnType<typeof daemonClient>,
  run: { id: string; status: string; output?: unknown; error?: FailureBody },
  wait: { deadline: number; given: string | undefined },
) {
  if (run.status === "completed") return run.output;
  if ((run.status === "failed" || run.status === "cancelled") && run.error) throw new RunFailedError(run.id, run.error);
  if (wait.given === undefined) return client.runs.result(run.id);
  try {
    return await client.runs.result(run.id, { timeout: Math.max(0, wait.deadline - Date.now()) });
  } catch (error) {
    if (!(error instanceof VilanoError) || error.code !== "wait_timeout") throw error;
    throw new VilanoError("wait_timeout", `run ${run.id} did not finish within ${durationAsGiven(wait.given)}; it goes on running`, {
      hint: `wait for it with \`vilano run result ${run.id} --wait\``,
      details: { runId: run.id },
    });
  }
}

export const runCommandGroup = defineCommand({
  meta: { name: "run", description: "Start runs and read their results" },
  subCommands: {
    ...readSubcommands,
    start: defineCommand({
      meta: { name: "start", description: "Start a run of <project/workflow>" },
      args: {
        target: { type: "positional", required: true, description: "<project>/<workflow>" },
        input: { type: "string", description: "Input as JSON, @file to read it from a file, or - for standard input" },
        id: { type: "string", description: "Run id (idempotency key): the same id returns the same run" },
        wait: { type: "boolean", description: "Wait for the run to finish and print its output" },
        timeout: { type: "string", description: "With --wait: stop waiting for the run after this long (it goes on); without, how long to wait for the daemon" },
        json,
      },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          // With --wait, --timeout bounds the wait for the run; the daemon keeps the usual time to
          // answer, so only a daemon that is silent past that is `daemon_unavailable`.
          setRequestTimeout(args.wait ? undefined : args.timeout);
          const waitMs = args.wait && args.timeout !== undefined ? parseDuration(args.timeout, "--timeout") : undefined;
          const input = await parseInputFlag(args.input);
          await ensureDaemon();
          const client = daemonClient();
          const target = await resolveTarget(client, args.target, "workflow");
          const id = args.id === undefined ? {} : { id: args.id };
          if (!args.wait) {
            const run = await client.runs.start(target, input, id);
            if (args.json) return printJson({ ok: true, run });
            return ui.success(`run ${run.id} ${run.created ? "started" : "already exists"} (${run.status})`);
          }
          const deadline = waitMs === undefined ? Infinity : Date.now() + waitMs;
          // One request starts the run and waits for it; only a longer run needs the result long-poll after.
          const run = await client.runs.start(target, input, { ...id, wait: Math.max(1, Math.min(START_WAIT_MS, deadline - Date.now())) });
          const spinner = !args.json && process.stderr.isTTY ? setInterval(() => process.stderr.write("."), 500) : undefined;
          try {
            // A failed or cancelled run throws RunFailedError: runCommand prints it with `"ok": false`.
            const output = await finished(client, run, { deadline, given: args.timeout });
            if (args.json) return printJson({ ok: true, run: { id: run.id, status: "completed", output } });
            process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
          } finally {
            if (spinner) clearInterval(spinner);
          }
        }),
    }),
  },
});

