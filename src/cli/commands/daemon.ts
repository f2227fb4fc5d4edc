import { defineCommand } from "citty";
import { startDaemon } from "../../runtime/index.ts";
import { existsSync, readFileSync } from "node:fs";
import { DEFAULT_PORT, homePaths } from "../../shared/home.ts";
import { adoptSettings, createLogger, hideSettings, loadConfig, parseDuration, VilanoError, type DaemonInfo } from "../../shared/index.ts";
import { currentHome, daemonClient, daemonState, setRequestTimeout, START_FAILURE_TAG, startDaemonProcess, stopDaemon, timeoutArg } from "../daemon-control.ts";
import { printJson, runCommand, ui } from "../output.ts";

const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;
const port = { type: "string", description: `Port on 127.0.0.1 (default VILANO_PORT or ${DEFAULT_PORT})` } as const;
const workers = { type: "string", description: "Worker processes per project (default VILANO_WORKERS, or one per CPU and at least 2)" } as const;
const database = { type: "string", description: "A postgres:// URL to keep runs in (default VILANO_DATABASE_URL, or the SQLite file in the home)" } as const;

function parseDatabase(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^postgres(ql)?:\/\/./i.test(value)) throw new VilanoError("validation_failed", "invalid --database: use a postgres:// URL (leave it out for the SQLite file in the home)");
  return value;
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return loadConfig().port;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new VilanoError("validation_failed", `invalid --port ${JSON.stringify(value)}: use a whole number from 0 to 65535`);
  return n;
}

export function parseWorkers(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 256) throw new VilanoError("validation_failed", `invalid --workers ${JSON.stringify(value)}: use a whole number from 1 to 256`);
  return n;
}

const daemonLogsCommand = defineCommand({
  meta: { name: "logs", description: "Print the end of the daemon's log" },
  args: { lines: { type: "string", description: "How many lines (default 50)" }, json: { type: "boolean", description: "Machine-readable output on stdout" } },
  run: ({ args }) =>
    runCommand(args.json, async () => {
      const path = homePaths(currentHome()).daemonLog;
      if (!existsSync(path)) throw new VilanoError("not_found", `no daemon log yet at ${path}`);
      const count = args.lines === undefined ? 50 : Number(args.lines);
      if (!Number.isInteger(count) || count < 1) throw new VilanoError("validation_failed", `invalid --lines ${JSON.stringify(args.lines)}: use a whole number >= 1`);
      const lines = readFileSync(path, "utf8").trimEnd().split("\n").slice(-count);
      if (args.json) return printJson({ ok: true, path, lines });
      process.stdout.write(`${lines.join("\n")}\n`);
    }),
});

export const daemonCommand = defineCommand({
  meta: { name: "daemon", description: "Start, stop and inspect the background daemon" },
  subCommands: {
    run: defineCommand({
      meta: { name: "run", description: "Run the daemon in the foreground (what `daemon start` launches)" },
      args: {
        port,
        workers,
        database,
        "settings-stdin": { type: "boolean", description: "Read the VILANO_* settings as a JSON object from standard input (how `daemon start` passes them, out of the environment)" },
      },
      run: ({ args }) =>
        runCommand(false, async () => {
          // Before anything reads the config: the settings handed over, then none left in process.env
          // (what this process spawns inherits none; its own /proc environ keeps what it started with).
          if (args["settings-stdin"]) adoptSettings(await Bun.stdin.text());
          hideSettings();
          const count = parseWorkers(args.workers);
          const url = parseDatabase(args.database);
          const daemon = await startDaemon({
            home: currentHome(),
            port: parsePort(args.port),
            logger: createLogger("info"),
            ...(count ? { workers: count } : {}),
            ...(url ? { database: url } : {}),
          }).catch(
            (error: unknown) => {
              // One machine-readable line for `daemon start`, which tells its caller why (and with which exit code).
              if (error instanceof VilanoError) process.stderr.write(`${START_FAILURE_TAG}${JSON.stringify({ code: error.code, message: error.message })}\n`);
              throw error;
            },
          );
          const stop = () => void daemon.stop().then(() => process.exit(0));
          process.on("SIGTERM", stop);
          process.on("SIGINT", stop);
          await new Promise(() => {});
        }),
    }),
    start: defineCommand({
      meta: { name: "start", description: "Start the daemon in the background" },
      args: { port, workers, json },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          const info = await startDaemonProcess(currentHome(), parsePort(args.port), parseWorkers(args.workers));
          if (args.json) return printJson({ ok: true, daemon: info });
          ui.success(`daemon running: pid ${info.pid}, http://127.0.0.1:${info.port}`);
        }),
    }),
    status: defineCommand({
      meta: { name: "status", description: "Show whether the daemon runs (and answers), and its workers" },
      args: { json, timeout: timeoutArg },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          setRequestTimeout(args.timeout);
          const s = await daemonState(currentHome());
          const status = s.state === "running" ? await daemonClient().status() : undefined;
          if (args.json) {
            return printJson({
              ok: true,
              running: s.state !== "stopped",
              ...(s.state === "stopped" ? {} : { answering: s.state === "running", daemon: s.info }),
              ...(status ? { store: status.store, workers: status.workers } : {}),
            });
          }
          if (s.state === "stopped") return ui.log("not running");
          if (s.state === "busy") {
            return ui.warn(`busy: pid ${s.info.pid} holds the database but does not answer on port ${s.info.port} (busy, or stopped with SIGSTOP)`);
          }
          ui.log(`running: pid ${s.info.pid}, port ${s.info.port}, version ${s.info.version}, since ${s.info.startedAt}`);
          if (status) ui.log(`store: ${status.store.kind === "postgres" ? "PostgreSQL" : "SQLite"} at ${status.store.location}`);
          if (status?.store.unavailable) ui.warn(`the database is unavailable: ${status.store.unavailable.message}`);
          const daemons = status?.store.daemons ?? [];
          if (daemons.length > 0) ui.log(`daemons sharing it (${daemons.length}):\n${daemons.map(describeDaemon).join("\n")}`);
          if (status) ui.log(`workers: ${status.workers.pids.length ? status.workers.pids.join(", ") : "none started yet"}`);
        }),
    }),
    logs: daemonLogsCommand,
    stop: defineCommand({
      meta: { name: "stop", description: "Stop the daemon and wait until it has exited (SIGKILL after --grace)" },
      args: { json, grace: { type: "string", description: "How long it may take to stop cleanly before it is killed (default 10s)" } },
      run: ({ args }) =>
        runCommand(args.json, async () => {
          const stopped = await stopDaemon(currentHome(), args.grace === undefined ? 10_000 : parseDuration(args.grace, "--grace"));
          if (args.json) return printJson({ ok: true, stopped: stopped !== null, ...(stopped ?? {}) });
          if (!stopped) return ui.log("not running");
          ui.log(stopped.forced ? `stopped pid ${stopped.pid} (killed: it did not stop within the grace)` : `stopped pid ${stopped.pid}`);
        }),
    }),
  },
});

/** One line of `daemon status` per daemon sharing a PostgreSQL database. */
function describeDaemon(d: DaemonInfo): string {
  const since = new Date(d.startedAt).toISOString();
  return `  ${d.id}${d.self ? " (this one)" : ""}: ${d.host} pid ${d.pid}, version ${d.version}, since ${since}, last heartbeat ${(d.silentMs / 1000).toFixed(1)} s ago`;
}
