/**
 * Values that cross a durable boundary must be plain JSON: they are stored in history and read
 * back on replay, so anything JSON would silently change (a Date, a Map, undefined in an array,
 * NaN) is refused with the path to the offending part instead of being stored wrongly.
 */
import { VilanoError } from "./errors.ts";

/** Deeper values are refused: serialising them would exhaust the stack, and no real document needs it. */
export const MAX_JSON_DEPTH = 512;

type Bad = { path: string; reason: string };

/** What is wrong with a value that is not an object or array, if anything. */
function primitiveProblem(value: unknown, path: string): Bad | undefined {
  switch (typeof value) {
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
  return undefined;
}

/**
 * Returns where `value` stops being plain JSON (a JSON path and a reason), or undefined. Walks
 * with its own stack, so input nested however deep is answered (refused past MAX_JSON_DEPTH),
 * never a stack overflow.
 */
export function findNonJson(value: unknown): Bad | undefined {
  interface Frame {
    obj: object;
    path: string;
    keys: readonly string[] | null;
    next: number;
  }
  const ancestors = new Set<object>();
  const stack: Frame[] = [];
  /** Checks one value; an object or array to look inside becomes a new frame. */
  const enter = (child: unknown, path: string): Bad | undefined => {
    if (child === null || (typeof child !== "object" && typeof child !== "function")) return primitiveProblem(child, path);
    if (typeof child === "function") return primitiveProblem(child, path);
    const obj = child as object;
    if (ancestors.has(obj)) return { path, reason: "a circular reference is not JSON" };
    if (stack.length >= MAX_JSON_DEPTH) return { path, reason: `values nested more than ${MAX_JSON_DEPTH} levels deep are not accepted` };
    let keys: string[] | null = null;
    if (!Array.isArray(obj)) {
      const proto = Object.getPrototypeOf(obj);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (obj as { constructor?: { name?: string } }).constructor?.name ?? "object";
        const hint = kind === "Date" ? " (store date.toISOString() or a number instead)" : "";
        return { path, reason: `a ${kind} instance is not plain JSON${hint}` };
      }
      keys = Object.keys(obj);
    }
    ancestors.add(obj);
    stack.push({ obj, path, keys, next: 0 });
    return undefined;
  };

  const bad = enter(value, "$");
  if (bad) return bad;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    const size = frame.keys ? frame.keys.length : (frame.obj as unknown[]).length;
    if (frame.next >= size) {
      stack.pop();
      ancestors.delete(frame.obj);
      continue;
    }
    const i = frame.next++;
    let problem: Bad | undefined;
    if (frame.keys) {
      const key = frame.keys[i]!;
      const child = (frame.obj as Record<string, unknown>)[key];
      // Properties holding undefined are dropped by JSON, as users expect; everything else must fit.
      if (child !== undefined) problem = enter(child, `${frame.path}.${key}`);
    } else {
      problem = enter((frame.obj as unknown[])[i], `${frame.path}[${i}]`);
    }
    if (problem) return problem;
  }
  return undefined;
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
