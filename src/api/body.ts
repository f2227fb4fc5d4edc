/**
 * Reading and validating request input. Bodies are read with a byte cap where they are read (not
 * only by a Content-Length check), parsed as JSON, and validated with valibot; a failure is a 400
 * whose details list every issue with its path.
 */
import type { Context } from "hono";
import * as v from "valibot";
import { VilanoError } from "../shared/index.ts";

const JSON_TYPE = /^application\/json\s*(;|$)/i;

export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  const body = c.req.raw.body;
  if (!body || declared === 0) return undefined;
  // A form or a text/plain body is what a cross-site page can send without a preflight: JSON routes take JSON only.
  const type = c.req.header("content-type") ?? "";
  if (!JSON_TYPE.test(type)) {
    throw new VilanoError("unsupported_media_type", `the request body must be JSON (Content-Type: application/json), got ${JSON.stringify(type || "no Content-Type")}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge(maxBytes);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const text = new TextDecoder().decode(Buffer.concat(chunks));
  try {
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new VilanoError("validation_failed", `the request body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

function tooLarge(maxBytes: number): VilanoError {
  return new VilanoError("payload_too_large", `the request body is larger than the limit of ${maxBytes} bytes`, { details: { maxBytes } });
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
