/**
 * A PostgreSQL server of a test's own, which the test may stop and start again on the same port
 * (an outage): Debian's postgresql binaries, a cluster made with initdb in a folder under /tmp
 * (reachable by the postgres user, which the server runs as when the tests run as root), listening
 * on 127.0.0.1 only. Stopped by its child handle with an immediate shutdown (SIGQUIT), as
 * scripts/ensure-postgres.sh stops the shared one; whatever is left goes after the file.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { signalChild } from "../../src/shared/index.ts";
import { afterThisFile } from "./cleanup.ts";

const PG_BIN = (() => {
  try {
    const versions = readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a));
    return versions.length > 0 ? join("/usr/lib/postgresql", versions[0]!, "bin") : null;
  } catch {
    return null;
  }
})();

/** Whether this machine has PostgreSQL's binaries to start a server of one's own. */
export const canRunPostgres = PG_BIN !== null;

const asPostgres = (): string[] => (process.getuid?.() === 0 ? ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []);

/** The OS's range of ephemeral ports (those connect() picks its local port from). */
export function ephemeralPortRange(): [number, number] {
  const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high) || low! > high!) throw new Error("cannot read /proc/sys/net/ipv4/ip_local_port_range");
  return [low!, high!];
}

/** Whether 127.0.0.1:`port` can be listened on right now. */
async function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port inside the ephemeral range nothing listens on now, picked at random (not the OS's pick, which would be outside none the less). */
export async function freeEphemeralPort(): Promise<number> {
  const [low, high] = ephemeralPortRange();
  for (let tries = 0; tries < 50; tries++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in the ephemeral range ${low}–${high}`);
}

export interface PgServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** Starts the server (again) on its port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Immediate shutdown; resolves once the server's process has exited. */
  stop(): Promise<void>;
  /** The server's log so far (what it said when it could not start). */
  log(): string;
}

/** Makes a cluster (initdb) for a server on `port`; not started. */
export function pgServer(port: number): PgServer {
  if (!PG_BIN) throw new Error("PostgreSQL's binaries are not installed (/usr/lib/postgresql/*/bin)");
  const dir = mkdtempSync("/tmp/vilano-pg-own-");
  const logPath = join(dir, "server.log");
  if (process.getuid?.() === 0) Bun.spawnSync(["chown", "postgres:postgres", dir]);
  const init = Bun.spawnSync([...asPostgres(), join(PG_BIN, "initdb"), "-D", join(dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"], { stdout: "pipe", stderr: "pipe" });
  if (init.exitCode !== 0) throw new Error(`initdb failed: ${init.stderr.toString()}`);
  let child: ReturnType<typeof Bun.spawn> | null = null;
  const stop = async () => {
    if (!child) return;
    const running = child;
    child = null;
    signalChild(running, "SIGQUIT");
    await running.exited;
  };
  afterThisFile(() => {
    if (child) signalChild(child, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });
  const ready = () => Bun.spawnSync([join(PG_BIN, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", String(port)]).exitCode === 0;
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      if (child) throw new Error("the server is already running");
      const log = openSync(logPath, "a");
      const server = Bun.spawn(
        [...asPostgres(), join(PG_BIN, "postgres"), "-D", join(dir, "data"), "-c", "listen_addresses=127.0.0.1", "-c", `port=${port}`, "-c", `unix_socket_directories=${dir}`, "-c", "max_connections=100"],
        { stdin: "ignore", stdout: log, stderr: log },
      );
      closeSync(log);
      child = server;
      const deadline = Date.now() + 60_000;
      while (!ready()) {
        if (server.exitCode !== null) {
          child = null;
          throw new Error(`PostgreSQL did not start on port ${port} (exit ${server.exitCode}):\n${readFileSync(logPath, "utf8")}`);
        }
        if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections on port ${port} within 60 s:\n${readFileSync(logPath, "utf8")}`);
        await Bun.sleep(50);
      }
    },
    stop,
    log: () => {
      try {
        return readFileSync(logPath, "utf8");
      } catch {
        return "";
      }
    },
  };
}
