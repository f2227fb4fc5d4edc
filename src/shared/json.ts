/**
 * Values that cross a durable boundary must be plain JSON: they are stored in history and read
 * back on replay, so anything JSON would silently change (a Date, a Map, undefined in an array,
 * NaN) is refused with the path to the offending part instead of being stored wrongly.
 */
import { VilanoError } from "./errors.ts";

/** Returns where `value` stops being plain JSON (a JSON path and a reason), or undefined. */
export function findNonJson(value: unknown, path = "$", seen = new Set<object>()): { path: string; reason: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : { path, reason: `${value} is not a JSON number` };
    case "undefined":
      return { path, reason: "undefined is not JSON" };
    case "bigint":
      return { path, reason: "a bigint is not JSON (convert it to a string)" };
    case "function":
      return { path, reason: "a function is not JSON" };
    case "symbol":
      return { path, reason: "a symbol is not JSON" };
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return { path, reason: "a circular reference is not JSON" };
  seen.add(obj);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const bad = findNonJson(obj[i], `${path}[${i}]`, seen);
        if (bad) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? "object";
      const hint = kind === "Date" ? " (store date.toISOString() or a number instead)" : "";
      return { path, reason: `a ${kind} instance is not plain JSON${hint}` };
    }
    for (const [key, child] of Object.entries(obj)) {
      // Properties holding undefined are dropped by JSON, as users expect; everything else must fit.
      if (child === undefined) continue;
      const bad = findNonJson(child, `${path}.${key}`, seen);
      if (bad) return bad;
    }
    return undefined;
  } finally {
    seen.delete(obj);
  }
}

/**
 * Serialises a value that must be JSON. `undefined` at the top is allowed and encoded as null
 * column value by callers (`encodeOptionalJson`).
 * @throws VilanoError(not_serializable) naming `what` and the path of the first bad part.
 */
export function toJson(value: unknown, what: string): string {
  const bad = findNonJson(value);
  if (bad) {
    throw new VilanoError("not_serializable", `${what} is not JSON-serialisable: at ${bad.path}, ${bad.reason}`, {
      details: bad,
    });
  }
  return JSON.stringify(value);
}

/** Like toJson, but `undefined` becomes `null` (no value) so "returned nothing" round-trips. */
export function toOptionalJson(value: unknown, what: string): string | null {
  return value === undefined ? null : toJson(value, what);
}

export function fromOptionalJson(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown);
}
