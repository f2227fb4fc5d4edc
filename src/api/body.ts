/**
 * Reading and validating request input. Bodies are capped by Hono's body limit (declared or
 * streamed), must be JSON, and are validated with valibot; a failure is a 400 whose details list
 * every issue with its path.
 */
import type { Context } from "hono";
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

/** The request's JSON body (undefined when it has none); `limitBody` has capped its size already. */
export async function readJsonBody(c: Context): Promise<unknown> {
  if (!c.req.raw.body || c.req.header("content-length") === "0") return undefined;
  // A form or a text/plain body is what a cross-site page can send without a preflight: JSON routes take JSON only.
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new VilanoError("unsupported_media_type", `the request body must be JSON (Content-Type: application/json), got ${JSON.stringify(type || "no Content-Type")}`);
  }
  const text = await c.req.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new VilanoError("validation_failed", `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

export interface Issue {
  path: string;
  message: string;
}

/** Validates input against a valibot schema; the error lists each issue as `path: message`. */
export function validate<S extends v.GenericSchema>(schema: S, value: unknown, what: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, value);
  if (parsed.success) return parsed.output;
  const issues: Issue[] = parsed.issues.map((issue) => ({
    path: issue.path?.map((p) => String(p.key)).join(".") || "(root)",
    message: issue.message,
  }));
  throw new VilanoError("validation_failed", `invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`, {
    details: { issues },
  });
}
