/** `vilano worker start [--once]`: a worker run by hand against the local daemon (see worker/external-main.ts). */
import { defineCommand } from "citty";
import { existsSync, readFileSync } from "node:fs";
import { homePaths } from "../../shared/home.ts";
import { VilanoError } from "../../shared/index.ts";
import { runExternalWorker } from "../../worker/index.ts";
import { currentHome, ensureDaemon, setRequestTimeout, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";

export const workerCommand = defineCommand({
  meta: { name: "worker", description: "Run user code in a worker you start yourself" },
  subCommands: {
    start: defineCommand({
      meta: {
        name: "start",
        description: "Connect a worker to the local daemon; it gets activations while it has room (cooperative cancellation only: the daemon cannot kill it)",
      },
      args: {
        once: { type: "boolean", description: "Take one activation, then leave" },
        json: { type: "boolean", description: "Machine-readable output on stdout (a summary when it leaves)" },
        timeout: timeoutArg,
      },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const info = await ensureDaemon();
          const paths = homePaths(currentHome());
          if (!existsSync(paths.token)) throw new VilanoError("not_found", `no token in ${paths.home}`);
          const token = readFileSync(paths.token, "utf8").trim();
          const result = await runExternalWorker({
            url: `ws://127.0.0.1:${info.port}/v1/workers/connect`,
            token,
            once: args.once === true,
            say: (line) => (args.json ? process.stderr.write(`${line}\n`) : ui.info(line)),
          });
          if (args.json) return printJson({ ok: true, activations: result.activations, reason: result.reason });
          ui.log(`worker left: ${result.reason} (${result.activations} activation${result.activations === 1 ? "" : "s"})`);
        }),
    }),
  },
});
