/**
 * The daemon process: the daemon runtime plus the control API on 127.0.0.1 only (Bun listens on
 * every interface when no hostname is given). It writes daemon.json once it listens and removes it
 * when it stops; SIGTERM and SIGINT stop it cleanly.
 */
import { createApiApp, websocket } from "../api/index.ts";
import { createLogger, loadConfig, VERSION, VilanoError, type Logger } from "../shared/index.ts";
import { dropOrphanedCancels, isPostgresUrl, redactUrl } from "../store/index.ts";
import { createApiBackend } from "./api-backend.ts";
import { createDashboard, createSessions, UI_BASE } from "../ui/index.ts";
import { createDaemonRuntime, type DaemonRuntime } from "./daemon-runtime.ts";
import { ensureHome, readOrCreateToken, removeDaemonInfo, writeDaemonInfo } from "../shared/home.ts";

export interface DaemonOptions {
  home: string;
  port: number;
  logger?: Logger;
  /** Worker processes per project snapshot (default: VILANO_WORKERS, or one per CPU and at least 2). */
  workers?: number;
  /** A `postgres://` URL (default: VILANO_DATABASE_URL, or the SQLite file in the home). */
  database?: string;
}

export interface RunningDaemon {
  port: number;
  runtime: DaemonRuntime;
  stop(): Promise<void>;
}

/** Which store a daemon uses, in words (a URL without its password). */
export function describeStore(database: string): string {
  return isPostgresUrl(database) ? `PostgreSQL at ${redactUrl(database)}` : `SQLite at ${database}`;
}

/** Whether a request URL's path is the dashboard's (`/ui` or below), without parsing the whole URL. */
export function isDashboardPath(url: string): boolean {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0) return false;
  const path = url.slice(pathStart, pathStart + UI_BASE.length + 1);
  return path === UI_BASE || path === `${UI_BASE}/` || path === `${UI_BASE}?`;
}

export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  // The daemon's own process only (no user code runs in it): see store/postgres/orphaned-cancels.ts.
  const stopDroppingOrphans = dropOrphanedCancels();
  try {
    return await serve(options, stopDroppingOrphans);
  } catch (error) {
    stopDroppingOrphans();
    throw error;
  }
}

async function serve(options: DaemonOptions, stopDroppingOrphans: () => void): Promise<RunningDaemon> {
  const logger = options.logger ?? createLogger("info");
  const paths = ensureHome(options.home);
  const database = options.database ?? loadConfig().database;
  const runtime = await createDaemonRuntime({ home: options.home, logger, database, ...(options.workers !== undefined ? { workers: options.workers } : {}) });
  // Read (or repaired) once the database is ours: a second daemon starting now stops before this.
  let token: string;
  try {
    token = readOrCreateToken(paths, { repair: true });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  const sessions = createSessions();
  const backend = createApiBackend(runtime, sessions);
  const app = createApiApp({ backend, token, logger: logger.withTag("api") });
  const dashboard = createDashboard({ backend, sessions, logger: logger.withTag("ui") });
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: options.port,
      // The dashboard's pages go to the dashboard (cookie sessions), all else to the API (the token).
      fetch: (request, bunServer) => (isDashboardPath(request.url) ? dashboard.fetch(request, bunServer) : app.fetch(request, bunServer)),
      websocket,
      idleTimeout: 60,
    });
  } catch (error) {
    // Give the database back before saying why: the next start must not find it held.
    await runtime.close();
    const inUse = (error as { code?: string }).code === "EADDRINUSE";
    throw new VilanoError(
      inUse ? "conflict" : "internal",
      inUse ? `port ${options.port} on 127.0.0.1 is already in use; choose another with --port or VILANO_PORT` : `could not listen on 127.0.0.1:${options.port}: ${(error as Error).message}`,
    );
  }
  const port = server.port!;
  writeDaemonInfo(paths, { pid: process.pid, port, version: VERSION, startedAt: new Date().toISOString() });
  logger.info(`vilano daemon ${VERSION} listening on http://127.0.0.1:${port} (home ${options.home}, ${describeStore(database)})`);
  let stopping: Promise<void> | undefined;
  return {
    port,
    runtime,
    stop() {
      stopping ??= (async () => {
        await server.stop(true);
        // A runtime that could not close cleanly (its database away) still lets the daemon stop.
        await runtime.close().catch((error: unknown) => logger.error("the runtime did not close cleanly:", error));
        removeDaemonInfo(paths, process.pid);
        stopDroppingOrphans();
      })();
      return stopping;
    },
  };
}
