import { defineCommand } from "citty";
import { startDaemon } from "../../runtime/index.ts";
import { DEFAULT_PORT, homePaths, readDaemonInfo } from "../../shared/home.ts";
import { createLogger, loadConfig, VilanoError } from "../../shared/index.ts";
import { currentHome, runningDaemon, startDaemonProcess } from "../daemon-control.ts";
import { daemonLogsCommand } from "./catalog.ts";
import { printJson, runCommand, ui } from "../output.ts";

const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;
const port = { type: "string", description: `Port on 127.0.0.1 (default VILANO_PORT or ${DEFAULT_PORT})` } as const;

function parsePort(value: string | undefined): number {
  if (value === undefined) return loadConfig().port;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new VilanoError("validation_failed", `invalid --port ${JSON.stringify(value)}: use a whole number from 0 to 65535`);
  return n;
}

export const daemonCommand = defineCommand({
  meta: { name: "daemon", description: "Start, stop and inspect the background daemon" },
  subCommands: {
    run: defineCommand({
      meta: { name: "run", description: "Run the daemon in the foreground (what `daemon start` launches)" },
      args: { port },
      run: ({ args }) =>
        runCommand(false, async () => {
          const daemon = await startDaemon({ home: currentHome(), port: parsePort(args.port), logger: createLogger("info") });
          const stop = () => void daemon.stop().then(() => process.exit(0));
          process.on("SIGTERM", stop);
          process.on("SIGINT", stop);
          await new Promise(() => {});
        }),
    }),
    start: defineCommand({
      meta: { name: "start", description: "Start the daemon in the background" },
      args: { port, json },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          const info = await startDaemonProcess(currentHome(), parsePort(args.port));
          if (args.json) return printJson({ ok: true, daemon: info });
          ui.success(`daemon running: pid ${info.pid}, http://127.0.0.1:${info.port}`);
        }),
    }),
    status: defineCommand({
      meta: { name: "status", description: "Show whether the daemon runs" },
      args: { json },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          const info = await runningDaemon(currentHome());
          if (args.json) return printJson({ ok: true, running: info !== null, ...(info ? { daemon: info } : {}) });
          ui.log(info ? `running: pid ${info.pid}, port ${info.port}, version ${info.version}, since ${info.startedAt}` : "not running");
        }),
    }),
    logs: daemonLogsCommand,
    stop: defineCommand({
      meta: { name: "stop", description: "Stop the daemon" },
      args: { json },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          const paths = homePaths(currentHome());
          const info = await runningDaemon(currentHome());
          if (info) {
            process.kill(info.pid, "SIGTERM");
            const deadline = Date.now() + 10_000;
            while (readDaemonInfo(paths) && Date.now() < deadline) await Bun.sleep(25);
            if (readDaemonInfo(paths)) throw new VilanoError("internal", `the daemon (pid ${info.pid}) did not stop within 10s`);
          }
          if (args.json) return printJson({ ok: true, stopped: info !== null });
          ui.log(info ? `stopped pid ${info.pid}` : "not running");
        }),
    }),
  },
});
