/** The daemon: its runtime (projects, runs, services over the worker pool), the control API backend, the HTTP server. */
export { createDaemonRuntime, type DaemonRuntime, type DaemonRuntimeOptions } from "./daemon-runtime.ts";
export { type ProjectInfo, type ProjectRegistry } from "./projects.ts";
export { parseTarget } from "./targets.ts";
export { createApiBackend } from "./api-backend.ts";
export { startDaemon, type DaemonOptions, type RunningDaemon } from "./daemon.ts";
export { ensureHome, homePaths, readDaemonInfo, readOrCreateToken, DEFAULT_PORT, type DaemonInfo, type HomePaths } from "../shared/home.ts";
