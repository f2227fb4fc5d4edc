/**
 * The one error envelope of the control API: `{ ok: false, error: { code, message, details? } }`,
 * with the HTTP status from the error-code table. Unexpected errors become `internal` without
 * leaking their text.
 */
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
  return Response.json(body, { status: ERROR_CODES[code].http });
}
