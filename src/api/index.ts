/** The control API's building blocks (the app and its routes come with the daemon). */
export { apiErrorHandler, errorResponse, refusalResponse, type ErrorEnvelope } from "./error-envelope.ts";
export { requireLoopbackHost, requireToken, isLoopbackHost, sameSecret } from "./security.ts";
export { jsonBody, limitBody, queryOf, requireJsonBody, validate, validationError, type Issue } from "./body.ts";
export { createApiApp, websocket, type ApiApp, type ApiOptions } from "./app.ts";
export type { ApiBackend, ApiProject, ApiProjectDetails, ApiRun, ApiSnapshot, ApiStatus, WorkerConnection } from "./backend.ts";
export * as apiSchemas from "./schemas.ts";
export { createStreamSlots, keepStreamAlive, SSE_HEARTBEAT_MS, streamInSlot, type StreamSlots } from "./sse.ts";
