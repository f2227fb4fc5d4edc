/**
 * Reading and validating request input. Bodies are capped by Hono's body limit (declared or
 * streamed) and must be JSON; bodies and queries are validated by `@hono/valibot-validator`, so
 * the route types (and the typed client built from them) carry each route's input. A failure is a
 * 400 whose details list every issue with its path.
 */
import type { MiddlewareHandler } from "hono";
import { vValidator } from "@hono/valibot-validator";
import { bodyLimit } from "hono/body-limit";
import * as v from "valibot";
import { VilanoError } from "../shared/index.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/** Refuses a body over `maxBytes` (413), declared or streamed: Hono's body limit, with our error. */
export const limitBody = (maxBytes: number) =>
  bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new VilanoError("payload_too_large", `the request body is larger than the limit of ${maxBytes} bytes`, { details: { maxBytes } });
    },
  });

/**
 * JSON routes take JSON only: a form or a text/plain body is what a cross-site page can send
 * without a preflight, so any body needs `Content-Type: application/json` (415 otherwise). An
 * empty body reads as `{}`, with or without that header.
 */
export const requireJsonBody = (): MiddlewareHandler => async (c, next) => {
  const type = c.req.header("content-type") ?? "";
  if (JSON_TYPE.test(type)) {
    // The validator parses a JSON-typed body from this same cached text; an empty one means no
    // fields, as without the header. Hono keeps each body it has read as a promise in `bodyCache`
    // (its type says otherwise).
    if ((await c.req.text()).trim() === "") (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve("{}");
  } else if (c.req.raw.body && c.req.header("content-length") !== "0") {
    throw new VilanoError("unsupported_media_type", `the request body must be JSON (Content-Type: application/json), got ${JSON.stringify(type || "no Content-Type")}`);
  }
  await next();
};

export interface Issue {
  path: string;
  message: string;
}

/** The one validation error: every issue as `path: message`, in the message and in the details. */
export function validationError(issues: readonly v.BaseIssue<unknown>[], what: string): VilanoError {
  const listed: Issue[] = issues.map((issue) => ({
    path: issue.path?.map((p) => String(p.key)).join(".") || "(root)",
    message: issue.message,
  }));
  return new VilanoError("validation_failed", `invalid ${what}: ${listed.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
    details: { issues: listed },
  });
}

const refuse = (what: string) => (result: { success: boolean; issues?: readonly v.BaseIssue<unknown>[] }) => {
  if (!result.success) throw validationError(result.issues ?? [], what);
};

/** The route's JSON body, validated: `c.req.valid("json")` in the handler, typed in the client. */
export const jsonBody = <S extends v.GenericSchema | v.GenericSchemaAsync>(schema: S, what: string) => vValidator("json", schema, refuse(what));

/** The route's query string, validated: `c.req.valid("query")` in the handler, typed in the client. */
export const queryOf = <S extends v.GenericSchema | v.GenericSchemaAsync>(schema: S) => vValidator("query", schema, refuse("query"));

/** Validates a value against a valibot schema outside a route (same error as the routes give). */
export function validate<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  throw validationError(parsed.issues, what);
}
