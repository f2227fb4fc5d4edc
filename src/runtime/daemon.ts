/**
 * The daemon process: the daemon runtime plus the control API on 127.0.0.1 only (Bun listens on
 * every interface when no hostname is given). It writes daemon.json once it listens and removes it
 * when it stops; SIGTERM and SIGINT stop it cleanly.
 */
import { createApiApp, createStreamSlots, websocket } from "../api/index.ts";
import { createLogger, loadConfig, VERSION, VilanoError, type Logger } from "../shared/index.ts";
import { dropOrphanedCancels, isPostgresUrl, redactUrl } from "../store/index.ts";
import { createApiBackend } from "./api-backend.ts";
import { createDashboard, createSessions, UI_BASE } from "../ui/index.ts";
import { createDaemonRuntime, type DaemonRuntime } from "./daemon-runtime.ts";
import { ensureHome, readOrCreateToken, removeDaemonInfo, writeDaemonInfo } from "../shared/home.ts";
import { createAdmission } from "./admission.ts";
import { resolveConnectionLimits } from "./connection-limits.ts";

export interface DaemonOptions {
  home: string;
  port: number;
  logger?: Logger;
  /** Worker processes per project snapshot (default: VILANO_WORKERS, or one per CPU and at least 2). */
  workers?: number;
  /** A `postgres://` URL (default: VILANO_DATABASE_URL, or the SQLite file in the home). */
  database?: string;
  /** Requests and event streams served at once (default: VILANO_MAX_CONNECTIONS and VILANO_MAX_STREAMS; null: fitted to the open-file limit). */
  limits?: { maxConnections: number | null; maxStreams: number | null };
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
  // Checked before anything is opened: caps the open-file limit cannot back are refused, naming the variable.
  const limits = resolveConnectionLimits(options.limits ?? loadConfig());
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
  // One count of event streams for the API and the dashboard: they share the connections.
  const streams = createStreamSlots(limits.maxStreams);
  const app = createApiApp({ backend, token, streams, logger: logger.withTag("api") });
  const dashboard = createDashboard({ backend, sessions, streams, logger: logger.withTag("ui") });
  let server: ReturnType<typeof Bun.serve>;
  const refusal = createAdmission(limits.maxConnections, () => server.pendingRequests + server.pendingWebSockets);
  try {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: options.port,
      // Past the cap, refused at the door; the dashboard's pages go to the dashboard (cookie
      // sessions), all else to the API (the token).
      fetch: (request, bunServer) => refusal(request) ?? (isDashboardPath(request.url) ? dashboard.fetch(request, bunServer) : app.fetch(request, bunServer)),
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
  try {
    runtime.startWorkerAhead();
  } catch (error) {
    // Only a head start: code gets workers started for it without one.
    logger.warn(`could not start a worker ahead of any project: ${(error as Error).message}`);
  }
  logger.info(`vilano daemon ${VERSION} listening on http://127.0.0.1:${port} (home ${options.home}, ${describeStore(database)})`);
  logger.info(
    `serving up to ${limits.maxConnections} requests and ${limits.maxStreams} event streams at once (open-file limit ${limits.descriptorLimit ?? "unknown"})`,
  );
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
