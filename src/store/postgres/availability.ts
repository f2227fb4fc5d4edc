/**
 * Whether the PostgreSQL server can be reached, and what is tried while it cannot.
 *
 * A statement that fails because the connection is gone (refused, cut, timed out, the server
 * shutting down) has the server looked at once, at once: a single connection lost (an idle one
 * the server closed, a restart already over) changes nothing. Only when that look fails too is the
 * database counted away. While it is away nothing is sent through the client at all: every call
 * fails at once with `database_unavailable` (the API's 503, with `Retry-After` saying when the next
 * look is due), and the server is looked at again after a wait that doubles each time (jittered, so
 * daemons that lost it together do not come back together), up to a ceiling. Each look is first a
 * probe of the port (server-probe.ts: bounded, and never a socket connected to itself), then, only
 * if a PostgreSQL answered there, one statement through the pool. When one succeeds the database is
 * back, and whoever listens hears so.
 */
import { VilanoError } from "../../shared/index.ts";
import { isConnectionLost } from "../faults.ts";
import type { DatabaseAvailability, DatabaseState } from "../boundary.ts";

/** The first wait before looking again, and the most it grows to. */
export const RECONNECT_FIRST_MS = 250;
export const RECONNECT_MAX_MS = 10_000;

export interface AvailabilityOptions {
  /** The database, in words for messages (a URL without its password). */
  where: string;
  /** Looks at the server: resolves when it answers, rejects with why not. */
  look: () => Promise<void>;
  /** The first wait before looking again, and the most it grows to (defaults: the constants above). */
  firstWaitMs?: number;
  maxWaitMs?: number;
  /** 0 ≤ x < 1 (tests may pin it). */
  random?: () => number;
  now?: () => number;
}

export interface AvailabilityGate extends DatabaseAvailability {
  /** Throws `database_unavailable` while the database is away (nothing is sent meanwhile). */
  check(): void;
  /**
   * A statement failed with `error`: when it says the connection is gone, the server is looked at
   * (or stays counted away); returns what to throw — `database_unavailable` for a lost connection,
   * `error` itself otherwise.
   */
  failed(error: unknown): unknown;
  /** Settles when the look under way (if any) is over: then `check` says what it found. */
  whenLooked(): Promise<void>;
  /** No more looks (the store is closing). */
  close(): void;
}

/** Whether `error` is the gate's own refusal (the database was away: nothing was sent). */
export const isDatabaseUnavailable = (error: unknown): boolean => (error as { code?: unknown } | null)?.code === "database_unavailable";

/** A lost connection, or a failure caused by one (a savepoint's, the store's own statements'). */
function saysConnectionLost(error: unknown): boolean {
  for (let e = error, depth = 0; e != null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) if (isConnectionLost(e)) return true;
  return false;
}

export function createAvailabilityGate(options: AvailabilityOptions): AvailabilityGate {
  const random = options.random ?? Math.random;
  const firstWaitMs = options.firstWaitMs ?? RECONNECT_FIRST_MS;
  const maxWaitMs = options.maxWaitMs ?? RECONNECT_MAX_MS;
  const now = options.now ?? Date.now;
  /** Away since, why, and when the next look is due; null while reachable. */
  let away: { since: number; reason: string; nextLookAt: number } | null = null;
  /** The look in progress (one at a time). */
  let looking: Promise<void> | null = null;
  let wait = firstWaitMs;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;
  const listeners = new Set<(state: DatabaseState) => void>();

  const state = (): DatabaseState =>
    away === null
      ? { available: true }
      : {
          available: false,
          since: away.since,
          message: `the database at ${options.where} is unavailable: ${away.reason}`,
          retryAfterSeconds: Math.max(1, Math.ceil((away.nextLookAt - now()) / 1000)),
        };
  const tell = () => {
    const current = state();
    for (const listener of listeners) {
      try {
        listener(current);
      } catch {
        // A listener's failure is its own: the others still hear.
      }
    }
  };
  /** The refusal while away; `cause`, the failure that says so (a statement's lost connection). */
  const unavailable = (cause?: unknown): VilanoError => {
    const current = state();
    const hint = "try again later: the daemon reconnects on its own";
    if (current.available) {
      const why = (cause as Error | undefined)?.message;
      return new VilanoError("database_unavailable", `the connection to the database at ${options.where} was lost${why ? ` (${why})` : ""}`, {
        cause,
        hint,
        details: { retryAfterSeconds: 1 },
      });
    }
    return new VilanoError("database_unavailable", `${current.message}; the next attempt to reach it is in ${current.retryAfterSeconds} s`, {
      cause,
      hint,
      details: { retryAfterSeconds: current.retryAfterSeconds, since: new Date(current.since).toISOString() },
    });
  };

  /** Full jitter on the upper half: between half the wait and the whole of it. */
  const jittered = (ms: number) => Math.round(ms / 2 + random() * (ms / 2));

  function scheduleLook(): void {
    if (closed || away === null) return;
    const delay = jittered(wait);
    wait = Math.min(wait * 2, maxWaitMs);
    away.nextLookAt = now() + delay;
    timer = setTimeout(() => {
      timer = null;
      void look();
    }, delay);
  }

  function look(): Promise<void> {
    if (closed) return Promise.resolve();
    looking ??= lookNow().finally(() => (looking = null));
    return looking;
  }

  async function lookNow(): Promise<void> {
    let failure: unknown = null;
    try {
      await options.look();
    } catch (error) {
      failure = error;
    }
    if (closed) return;
    if (failure === null) {
      const wasAway = away !== null;
      away = null;
      wait = firstWaitMs;
      if (wasAway) tell();
      return;
    }
    const reason = (failure as Error)?.message ?? String(failure);
    const first = away === null;
    away = { since: away?.since ?? now(), reason, nextLookAt: now() };
    scheduleLook();
    if (first) tell();
  }

  return {
    current: state,
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    check() {
      if (away !== null) throw unavailable();
    },
    failed(error) {
      if (isDatabaseUnavailable(error)) return error;
      if (!saysConnectionLost(error)) return error;
      // Looked at now, unless a look is due already (away) or under way.
      if (away === null) void look();
      return unavailable(error);
    },
    whenLooked: () => looking ?? Promise.resolve(),
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      listeners.clear();
    },
  };
}
