/**
 * The one error envelope of the control API: `{ ok: false, error: { code, message, details? } }`,
 * with the HTTP status from the error-code table. Unexpected errors become `internal` without
 * leaking their text.
 */
import type { Context, ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ERROR_CODES, isErrorCode, VilanoError, type ErrorCode } from "../shared/index.ts";

export interface ErrorEnvelope {
  ok: false;
  error: { code: string; message: string; details?: unknown };
}

export function errorResponse(error: unknown, onUnexpected?: (error: unknown) => void): Response {
  let code: ErrorCode = "internal";
  let message = "internal error; see the daemon log";
  let details: unknown;
  if (error instanceof VilanoError || (error && typeof error === "object" && isErrorCode((error as { code?: unknown }).code))) {
    const e = error as VilanoError;
    code = e.code;
    message = e.message;
    details = e.details;
  } else {
    onUnexpected?.(error);
  }
  const body: ErrorEnvelope = { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
  // An error that knows when trying again may help (the database away) says so in the header too.
  const retryAfter = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  const headers = typeof retryAfter === "number" && Number.isInteger(retryAfter) && retryAfter > 0 ? { "retry-after": String(retryAfter) } : undefined;
  return Response.json(body, { status: ERROR_CODES[code].http, ...(headers ? { headers } : {}) });
}

/**
 * The validator says only "Malformed JSON" for a body that does not parse: say where it breaks.
 * Undefined for any other error. Costs nothing on the happy path: it runs only for that error.
 */
async function malformedJsonError(error: unknown, c: Context): Promise<VilanoError | undefined> {
  if (!(error instanceof HTTPException) || error.status !== 400) return undefined;
  const text = await c.req.text().catch(() => "");
  try {
    JSON.parse(text);
  } catch (cause) {
    return new VilanoError("validation_failed", `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return undefined;
}

/** What Hono itself refuses with (an HTTPException), in our codes. */
const HTTP_CODES: Record<number, ErrorCode> = { 400: "validation_failed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 413: "payload_too_large", 415: "unsupported_media_type" };

/** The app's error handler: every error as the envelope; `onUnexpected` sees the ones that are not ours. */
export const apiErrorHandler =
  (onUnexpected?: (error: unknown) => void): ErrorHandler =>
  async (error, c) => {
    const malformed = await malformedJsonError(error, c);
    if (malformed) return errorResponse(malformed);
    const code = error instanceof HTTPException ? HTTP_CODES[error.status] : undefined;
    return errorResponse(code ? new VilanoError(code, error.message || `HTTP ${(error as HTTPException).status}`) : error, onUnexpected);
  };
