/** `signal send <run> <name>`. */
import { defineCommand } from "citty";
import { ensureDaemon, daemonClient, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { parseInputFlag } from "../input.ts";
import { printJson, runCommand, ui } from "../output.ts";
import { json } from "./common.ts";

const id = { type: "positional", required: true, description: "Run id" } as const;
const client = daemonClient;

export const signalCommand = defineCommand({
  meta: { name: "signal", description: "Send run signals" },
  subCommands: {
    send: defineCommand({
      meta: { name: "send", description: "Send a signal to a run (buffered until it waits for it)" },
      args: { id, name: { type: "positional", required: true }, input: { type: "string", description: "Payload as JSON, @file to read it from a file, or - for standard input" }, json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const payload = await parseInputFlag(args.input);
          await ensureDaemon();
          const delivery = await client().runs.signal(args.id, args.name, payload);
          if (args.json) return printJson({ ok: true, delivery });
          ui.success(`signal ${args.name} ${delivery.status} (run ${args.id})`);
        }),
    }),
  },
});
