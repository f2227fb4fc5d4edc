/**
 * The daemon's door: a request that would put more than `maxConnections` requests in flight is
 * answered at once with 503 and `Retry-After`, and its connection closed (a refused client holds no
 * descriptor). `/health` is always let in: it touches nothing and is how the CLI tells a busy daemon
 * from a dead one. Event streams have their own, lower cap (api/sse.ts), so they never fill this one.
 */
import { refusalResponse } from "../api/index.ts";
import { VilanoError } from "../shared/index.ts";

/** Short requests end quickly: a refused one may come back soon. */
export const REQUEST_RETRY_AFTER_SECONDS = 1;

/** Whether a request URL's path is `/health` (with or without a query), without parsing the whole URL. */
export function isHealthPath(url: string): boolean {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  if (pathStart < 0) return false;
  const path = url.slice(pathStart, pathStart + "/health".length + 1);
  return path === "/health" || path === "/health?";
}

/**
 * The gate: undefined lets the request in, a Response refuses it. `inFlight` counts the requests
 * being served now (this one among them) and the open WebSockets.
 */
export function createAdmission(maxConnections: number, inFlight: () => number): (request: Request) => Response | undefined {
  return (request) => {
    if (inFlight() <= maxConnections || isHealthPath(request.url)) return undefined;
    return refusalResponse(
      new VilanoError(
        "daemon_overloaded",
        `the daemon already serves ${maxConnections} requests at once, its limit (VILANO_MAX_CONNECTIONS); try again in ${REQUEST_RETRY_AFTER_SECONDS}s`,
        { details: { maxConnections, retryAfterSeconds: REQUEST_RETRY_AFTER_SECONDS } },
      ),
    );
  };
}
