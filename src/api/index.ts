/** The control API's building blocks (the app and its routes come with the daemon). */
export { errorResponse, type ErrorEnvelope } from "./error-envelope.ts";
export { requireLoopbackHost, requireToken, isLoopbackHost } from "./security.ts";
export { limitBody, readJsonBody, validate, type Issue } from "./body.ts";
export { createApiApp, websocket, type ApiApp, type ApiOptions } from "./app.ts";
export type { ApiBackend, ApiProject, ApiRun, ApiStatus, WorkerConnection } from "./backend.ts";
