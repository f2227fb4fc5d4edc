/**
 * How long a name, key or topic may be. They are labels stored with every op (and repeated in run
 * ids, events and views), not values: a 20 MiB step name was stored whole and took 80 MB of the
 * daemon's memory per inspect. User code's names are checked where the SDK takes them; the
 * daemon's schema bounds every identifier an op command carries, for workers that bypass the SDK.
 */
import { VilanoError } from "./errors.ts";

/** The longest name, op key, service key, handler or topic user code may give (characters). */
export const MAX_NAME_LENGTH = 1024;

/**
 * The longest identifier an op command may carry (characters): a name or key, or what is built
 * from them — a service turn's scoped op key, `<service>.<handler>`, a child's run id.
 */
export const MAX_IDENTIFIER_LENGTH = 8 * 1024;

/** Throws `validation_failed` naming `what` and the limit when `text` is longer than MAX_NAME_LENGTH. */
export function checkNameLength(what: string, text: string): void {
  if (text.length <= MAX_NAME_LENGTH) return;
  throw new VilanoError(
    "validation_failed",
    `${what} is ${text.length} characters long, more than the limit of ${MAX_NAME_LENGTH} characters for names, keys and topics (it starts ${JSON.stringify(text.slice(0, 40))}…)`,
    { details: { length: text.length, limit: MAX_NAME_LENGTH } },
  );
}
