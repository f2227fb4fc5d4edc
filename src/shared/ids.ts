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

const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Whether a project name has the shape the daemon registers projects under. */
export function isValidProjectName(name: string): boolean {
  return PROJECT_NAME.test(name);
}

/**
 * The run id of a service instance. Derived from the service name and key, so connecting is
 * idempotent and the engine can name an instance before the kernel has recorded it.
 */
export function serviceInstanceId(project: string, service: string, key: string): string {
  return project === "" ? `svc:${service}:${key}` : `svc:${project}/${service}:${key}`;
}

/** Parts of derived ids kept as written; `.`, `@`, `~` and `=` are left out so they can separate parts. */
const READABLE_PART = /^[A-Za-z0-9_:-]{1,100}$/;

/**
 * One part of a derived run id: the text itself when it is short and plain, else `=` and the first
 * 24 hex digits of its SHA-256 (a hash that stays the same across versions, as durable ids must).
 */
export function idPart(text: string): string {
  return READABLE_PART.test(text) ? text : `=${new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 24)}`;
}

/**
 * The run id of a child started by `ctx.spawn`, derived from the parent's id so that a replay or
 * a restarted daemon names the same child: `<parent>~<key>` for a keyed child (one per key),
 * `<parent>~<key>@<spawn op key>` for a fresh one, `<parent>~@<spawn op key>` without a key.
 */
export function childRunId(parentId: string, child: { key?: string; opKey: string; fresh: boolean }): string {
  if (child.key === undefined) return `${parentId}~@${idPart(child.opKey)}`;
  return child.fresh ? `${parentId}~${idPart(child.key)}@${idPart(child.opKey)}` : `${parentId}~${idPart(child.key)}`;
}

/** The run id of a supervised member: `<owner>~<group>.<member>` for its first run, then `.r1`, `.r2`, … per restart. */
export function memberRunId(ownerId: string, groupKey: string, memberKey: string, restarts: number): string {
  const first = `${ownerId}~${idPart(groupKey)}.${idPart(memberKey)}`;
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
