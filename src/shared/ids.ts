/**
 * Identifiers. Run ids are time-ordered (so lists sort by creation) and random in their tail.
 */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lower case

function encodeTime(ms: number, length: number): string {
  let out = "";
  let rest = Math.max(0, Math.floor(ms));
  for (let i = 0; i < length; i++) {
    out = ALPHABET[rest % 32]! + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function randomTail(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let out = "";
  for (const b of bytes) out += ALPHABET[b & 31]!;
  return out;
}

/** A new run id such as `run_01jdx3k2q4ab7c9d2efgh3jk5m`. */
export function newRunId(now: number = Date.now()): string {
  return `run_${encodeTime(now, 10)}${randomTail(16)}`;
}

const USER_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

/** Whether a caller-chosen run id (an idempotency key) has an acceptable shape. */
export function isValidRunId(id: string): boolean {
  return USER_ID.test(id);
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** Whether a workflow, service or step name has an acceptable shape. */
export function isValidName(name: string): boolean {
  return NAME.test(name);
}

/**
 * The run id of a service instance. Derived from the service name and key, so connecting is
 * idempotent and the engine can name an instance before the kernel has recorded it.
 */
export function serviceInstanceId(project: string, service: string, key: string): string {
  return project === "" ? `svc:${service}:${key}` : `svc:${project}/${service}:${key}`;
}

const READABLE_TOKEN = /^[A-Za-z0-9_.:@-]{1,100}$/;

/**
 * The run id of a child started by `ctx.spawn`: derived from the parent's id and a token (the
 * child key, or the spawn's op key), so a replay or a restarted daemon names the same child.
 */
export function childRunId(parentId: string, token: string): string {
  const part = READABLE_TOKEN.test(token) ? token : `h${Bun.hash(token).toString(16)}`;
  return `${parentId}~${part}`;
}

/** The run id of a supervised member: its first run, then one per restart (`.r1`, `.r2`, …). */
export function memberRunId(ownerId: string, groupKey: string, memberKey: string, restarts: number): string {
  const first = childRunId(ownerId, `${groupKey}.${memberKey}`);
  return restarts === 0 ? first : `${first}.r${restarts}`;
}

/** A 32-bit FNV-1a hash, used where a stable, seedable number is wanted (jitter). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic number in [0, 1) from any text. */
export function unitFromText(text: string): number {
  // Mix twice so nearby inputs ("…:1", "…:2") land far apart.
  const a = hash32(text);
  const b = hash32(`${a}:${text}`);
  return b / 0x1_0000_0000;
}
