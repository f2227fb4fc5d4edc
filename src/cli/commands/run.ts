import { defineCommand } from "citty";
import { RunFailedError, VilanoError } from "../../shared/index.ts";
import { ensureDaemon, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { parseInputFlag } from "../input.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { resolveTarget } from "../target.ts";
import { instanceKey, serviceInspectCommand, serviceListCommand } from "./catalog.ts";
import { runSubcommands } from "./runs-read.ts";

const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;

export const runCommandGroup = defineCommand({
  meta: { name: "run", description: "Start runs and read their results" },
  subCommands: {
    ...runSubcommands,
    start: defineCommand({
      meta: { name: "start", description: "Start a run of <project/workflow>" },
      args: {
        target: { type: "positional", required: true, description: "<project>/<workflow>" },
        input: { type: "string", description: "Input as JSON, @file to read it from a file, or - for standard input" },
        id: { type: "string", description: "Run id (idempotency key): the same id returns the same run" },
        wait: { type: "boolean", description: "Wait for the run to finish and print its output" },
        timeout: { type: "string", description: "With --wait: stop waiting after this long (the run goes on)" },
        json,
      },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const input = await parseInputFlag(args.input);
          await ensureDaemon();
          const client = daemonClient();
          const target = await resolveTarget(client, args.target, "workflow");
          const run = await client.runs.start(target, input, args.id === undefined ? {} : { id: args.id });
          if (!args.wait) {
            if (args.json) return printJson({ ok: true, run });
            return ui.success(`run ${run.id} ${run.created ? "started" : "already exists"} (${run.status})`);
          }
          const spinner = !args.json && process.stderr.isTTY ? setInterval(() => process.stderr.write("."), 500) : undefined;
          try {
            const output = await client.runs.result(run.id, args.timeout === undefined ? {} : { timeout: args.timeout });
            if (args.json) return printJson({ ok: true, run: { id: run.id, status: "completed", output } });
            process.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
          } catch (error) {
            if (error instanceof RunFailedError && args.json) {
              printJson({ ok: true, run: { id: run.id, status: error.code === "cancelled" ? "cancelled" : "failed", error: error.cause } });
              process.exit(error.exitCode);
            }
            throw error;
          } finally {
            if (spinner) clearInterval(spinner);
          }
        }),
    }),
  },
});

const stopService = defineCommand({
  meta: { name: "stop", description: "Stop the instance of <project/service> with --key (its backlog fails)" },
  args: { target: { type: "positional", required: true }, key: instanceKey, json, timeout: timeoutArg },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      await ensureDaemon();
      const instance = await daemonClient().services.stop(args.target, args.key);
      if (args.json) return printJson({ ok: true, instance });
      ui.success(`${instance.id} is ${instance.status}`);
    }),
});

const ensureService = defineCommand({
  meta: { name: "ensure", description: "Create (or get) the instance of <project/service> for a key input" },
  args: {
    target: { type: "positional", required: true, description: "<project>/<service>" },
    "key-json": { type: "string", required: true, description: "The key input as JSON, @file to read it from a file, or - for standard input" },
    json,
    timeout: timeoutArg,
  },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      setRequestTimeout(args.timeout);
      const keyInput = await parseInputFlag(args["key-json"], "--key-json");
      await ensureDaemon();
      const client = daemonClient();
      const target = await resolveTarget(client, args.target, "service");
      const { instance, created } = await client.services.ensure(target, keyInput);
      if (args.json) return printJson({ ok: true, instance, created });
      ui.success(`${instance.id} ${created ? "created" : "already exists"} (${instance.status})`);
    }),
});

export const serviceCommand = defineCommand({
  meta: { name: "service", description: "Talk to service instances" },
  subCommands: {
    ensure: ensureService,
    stop: stopService,
    list: serviceListCommand,
    inspect: serviceInspectCommand,
    ...Object.fromEntries(
    (["send", "ask", "signal"] as const).map((kind) => [
      kind,
      defineCommand({
        meta: { name: kind, description: `${kind} a message to the instance of <project/service> with --key` },
        args: {
          target: { type: "positional", required: true, description: "<project>/<service>" },
          handler: { type: "positional", required: true, description: "Handler name" },
          key: instanceKey,
          input: { type: "string", description: "Payload as JSON, @file to read it from a file, or - for standard input" },
          "wait-timeout": { type: "string", description: "ask: give up after this long (ask_timeout)" },
          json,
          timeout: timeoutArg,
        },
        run: ({ args }) =>
          runCommand(args.json, async () => {
            setRequestTimeout(args.timeout);
            const payload = await parseInputFlag(args.input);
            await ensureDaemon();
            const client = daemonClient();
            const target = await resolveTarget(client, args.target, "service");
            if (!/^[^/\s]+\/[^/\s]+$/.test(target)) {
              throw new VilanoError("validation_failed", `invalid service ${JSON.stringify(args.target)}: write it as <project>/<service>`);
            }
            const timeout = args["wait-timeout"];
            const result = await client.services.call(target, {
              kind,
              handler: args.handler,
              key: args.key,
              payload,
              ...(timeout !== undefined ? { timeout } : {}),
            });
            if (args.json) return printJson(kind === "ask" ? { ok: true, reply: result.reply } : { ok: true, serviceRunId: result.serviceRunId });
            if (kind === "ask") process.stdout.write(`${JSON.stringify(result.reply, null, 2)}\n`);
            else ui.success(`${kind} delivered to ${result.serviceRunId}`);
          }),
      }),
    ]),
    ),
  },
});
