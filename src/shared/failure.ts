/**
 * The serialisable failure body that crosses every boundary (history, worker IPC, HTTP):
 * `{ name, message, code?, family, retryable, details? }`. Errors are rebuilt from it by reading
 * fields, never by `instanceof`, because user code may carry its own copy of the SDK.
 */
import { safeString } from "./describe-value.ts";

export const FAILURE_FAMILIES = ["application", "timeout", "process_exit", "process_spawn"] as const;
export type FailureFamily = (typeof FAILURE_FAMILIES)[number];

export interface FailureBody {
  name: string;
  message: string;
  code?: string;
  family: FailureFamily;
  retryable: boolean;
  /** Why the kernel failed it, for failures the kernel makes (`worker_crashed`, `service_stopped`, …). */
  reason?: string;
  details?: unknown;
}

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  family?: unknown;
  retryable?: unknown;
  reason?: unknown;
  details?: unknown;
}

/** Turns anything user code threw into a failure body; `family` is used unless the error names one. */
export function toFailureBody(thrown: unknown, family: FailureFamily = "application"): FailureBody {
  if (thrown === null || (typeof thrown !== "object" && typeof thrown !== "function")) {
    return { name: "Error", message: capped(safeString(thrown)), family, retryable: true };
  }
  try {
    return readFailure(thrown, family);
  } catch (error) {
    // A Proxy or a getter that throws, or an engine limit on what was read: the attempt is still a
    // failure to record (and retry), described rather than read.
    return { name: "Error", message: capped(`a thrown value that could not be read: ${unreadable(error)}`), family, retryable: true };
  }
}

/** Reads each field once, through `read`, so a getter that throws costs only that field. */
function readFailure(thrown: object, family: FailureFamily): FailureBody {
  const e = {} as ErrorLike;
  for (const key of ["name", "message", "code", "family", "retryable", "reason", "details"] as const) e[key] = read(thrown, key);
  const isError = guarded(() => thrown instanceof Error, false);
  // Something thrown that is not an Error (`throw { status: 404 }`) keeps its content: as the
  // message (JSON, shortened) and whole in `details`, rather than "[object Object]".
  const plain = !isError && typeof e.message !== "string" && !(e.message instanceof Unreadable);
  const message =
    typeof e.message === "string" ? e.message
    : e.message instanceof Unreadable ? `a thrown value that could not be read (reading its message threw: ${e.message.why})`
    : plain ? describeThrown(thrown)
    : safeString(thrown);
  const body: FailureBody = {
    name: typeof e.name === "string" && e.name ? cutLabel(e.name) : "Error",
    message: capped(message),
    family: isFamily(e.family) ? e.family : family,
    retryable: e.retryable !== false,
  };
  if (typeof e.code === "string") body.code = cutLabel(e.code);
  if (typeof e.reason === "string") body.reason = cutLabel(e.reason);
  if (e.details !== undefined && !(e.details instanceof Unreadable)) body.details = safeDetails(e.details);
  else if (plain) body.details = safeDetails(thrown);
  return body;
}

/** A field whose getter threw: it says why, and counts as absent everywhere else. */
class Unreadable {
  constructor(readonly why: string) {}
}

function read(thrown: object, key: string): unknown {
  try {
    return (thrown as Record<string, unknown>)[key];
  } catch (error) {
    return new Unreadable(unreadable(error));
  }
}

function guarded<T>(work: () => T, fallback: T): T {
  try {
    return work();
  } catch {
    return fallback;
  }
}

/** What the error thrown while reading a thrown value says, itself read defensively. */
function unreadable(error: unknown): string {
  const message = guarded(() => {
    const text = (error as { message?: unknown } | null)?.message;
    return typeof text === "string" ? text : safeString(error);
  }, "its reading threw a value that cannot be shown either");
  return message.length > THROWN_TEXT_MAX ? `${message.slice(0, THROWN_TEXT_MAX)}…` : message;
}

const THROWN_TEXT_MAX = 500;

function describeThrown(thrown: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(thrown) ?? safeString(thrown);
  } catch {
    text = safeString(thrown);
  }
  const shown = text.length > THROWN_TEXT_MAX ? `${text.slice(0, THROWN_TEXT_MAX)}…` : text;
  return `a non-Error value was thrown: ${shown}`;
}

function isFamily(value: unknown): value is FailureFamily {
  return typeof value === "string" && (FAILURE_FAMILIES as readonly string[]).includes(value);
}

/** Failures are recorded with every attempt: their text is kept to a size that history can carry. */
const MESSAGE_MAX = 8 * 1024;
const DETAILS_MAX = 64 * 1024;
/** A name, code or reason is a label, not a text: a longer one is cut (a 20 MiB `name` was stored whole). */
const LABEL_MAX = 256;

/**
 * A failure body made elsewhere (`ctx.reject`, a subprocess's last stderr line, a worker's report)
 * cut to the sizes `toFailureBody` keeps, so no field of a failure can carry a value of any size.
 */
export function boundFailure(body: FailureBody): FailureBody {
  const bounded: FailureBody = { ...body, name: cutLabel(body.name), message: capped(body.message) };
  if (body.code !== undefined) bounded.code = cutLabel(body.code);
  if (body.reason !== undefined) bounded.reason = cutLabel(body.reason);
  if (body.details !== undefined) bounded.details = safeDetails(body.details);
  return bounded;
}

/** A name, code or reason cut to LABEL_MAX characters, saying how much was cut. */
export function cutLabel(text: string): string {
  return cut(text, LABEL_MAX);
}

/** Details must survive JSON and stay small; anything else is replaced by a note saying so. */
function safeDetails(details: unknown): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(details);
  } catch {
    return { note: "details were not JSON-serialisable and were dropped" };
  }
  if (text === undefined) return { note: "details were not JSON-serialisable and were dropped" };
  if (text.length > DETAILS_MAX) return { note: `details of ${text.length} characters were dropped (more than ${DETAILS_MAX})` };
  return JSON.parse(text) as unknown;
}

/** A message cut to MESSAGE_MAX characters, saying how much was cut. */
function capped(message: string): string {
  return cut(message, MESSAGE_MAX);
}

/**
 * Room for the note a cut adds (`… [20971264 more characters not kept]`): a text already cut is
 * within its limit plus this room, so cutting again (the daemon after the worker) keeps it as it is.
 */
const NOTE_ROOM = 48;

function cut(text: string, max: number): string {
  return text.length <= max + NOTE_ROOM ? text : `${text.slice(0, max)}… [${text.length - max} more characters not kept]`;
}
