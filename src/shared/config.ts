/**
 * The only module that reads the environment. It produces a frozen config that is passed down;
 * invalid values are errors that name the variable.
 */
import { createHash } from "node:crypto";
import { availableParallelism, homedir } from "node:os";
import { basename, isAbsolute, join, relative, resolve, sep } from "node:path";
import * as v from "valibot";
import { parseCrashAt, type CrashPlan } from "./crash-points.ts";
import { parseDuration } from "./duration.ts";
import { VilanoError } from "./errors.ts";
import { settingsEnvironment } from "./settings-handover.ts";

const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const EnvSchema = v.object({
  VILANO_HOME: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
  VILANO_LOG_LEVEL: v.optional(v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`)),
  VILANO_DATABASE_URL: v.optional(v.pipe(v.string(), v.regex(/^postgres(ql)?:\/\/./i, "must be a postgres:// URL (or unset for the SQLite file in the home)"))),
  VILANO_PORT: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a port number"), v.transform(Number), v.maxValue(65535, "must be at most 65535"))),
  VILANO_WORKERS: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,3}$/, "must be a whole number of workers"), v.transform(Number), v.minValue(1, "must be at least 1"), v.maxValue(256, "must be at most 256")),
  ),
  VILANO_WORKER_LEASE: v.optional(v.pipe(v.string(), v.check(isDuration, 'must be a duration such as "5s"'), v.transform((d) => parseDuration(d)))),
  VILANO_IMPORT_TIMEOUT: v.optional(v.pipe(v.string(), v.check(isDuration, 'must be a duration such as "10s"'), v.transform((d) => parseDuration(d)))),
  VILANO_DAEMON_LEASE: v.optional(v.pipe(v.string(), v.check(isDuration, 'must be a duration such as "10s"'), v.transform((d) => parseDuration(d)))),
  VILANO_MAX_VALUE_BYTES: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,10}$/, "must be a whole number of bytes"), v.transform(Number), v.minValue(1024, "must be at least 1024"), v.maxValue(268_435_456, "must be at most 268435456 (256 MiB)")),
  ),
  VILANO_WORKSPACES: v.optional(v.pipe(v.string(), v.check(isAbsolute, "must be an absolute path"))),
  VILANO_MAX_CONNECTIONS: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,7}$/, "must be a whole number of requests"), v.transform(Number), v.minValue(32, "must be at least 32"), v.maxValue(1_000_000, "must be at most 1000000")),
  ),
  VILANO_MAX_STREAMS: v.optional(
    v.pipe(v.string(), v.regex(/^\d{1,7}$/, "must be a whole number of streams"), v.transform(Number), v.minValue(1, "must be at least 1"), v.maxValue(1_000_000, "must be at most 1000000")),
  ),
});

function isDuration(text: string): boolean {
  try {
    return parseDuration(text) > 0;
  } catch {
    return false;
  }
}

/** Workers per body of code by default: one per CPU, at least two. */
export const DEFAULT_MAX_VALUE_BYTES = 4 * 1024 * 1024;

export const defaultWorkerCount = (): number => Math.max(2, availableParallelism());

export interface Config {
  /** The runtime home: database, token, logs, snapshots. */
  readonly home: string;
  readonly logLevel: LogLevel;
  /** The default database file inside the home. */
  readonly databasePath: string;
  /** The daemon's database: VILANO_DATABASE_URL (PostgreSQL), or the SQLite file in the home. */
  readonly database: string;
  /** The daemon's port on 127.0.0.1 (VILANO_PORT, default 4141). */
  readonly port: number;
  /** Worker processes per project snapshot (VILANO_WORKERS, default one per CPU and at least 2). */
  readonly workers: number;
  /** Silence after which a stopped worker loses its leases (VILANO_WORKER_LEASE, default 5s). */
  readonly workerLeaseMs: number;
  /**
   * With several daemons on one PostgreSQL database: how long a daemon's leases outlive its last
   * heartbeat before the others take its runs over (VILANO_DAEMON_LEASE, default 10s).
   */
  readonly daemonLeaseMs: number;
  /** How long `project add|sync` lets a project's top-level code take (VILANO_IMPORT_TIMEOUT, default 10s). */
  readonly importTimeoutMs: number;
  /** The largest value recorded: a step result, an output, a payload, state (VILANO_MAX_VALUE_BYTES, default 4 MiB). */
  readonly maxValueBytes: number;
  /**
   * The folder under which every home and every embedded runtime keeps its activations' working
   * directories (VILANO_WORKSPACES, default `$TMPDIR/vilano-<uid>`).
   */
  readonly workspacesBase: string;
  /**
   * The most requests the daemon's API and dashboard serve at once, event streams included
   * (VILANO_MAX_CONNECTIONS; null: 1024, fitted under the descriptor limit — see runtime/connection-limits.ts).
   */
  readonly maxConnections: number | null;
  /** The most event streams (API and dashboard) open at once (VILANO_MAX_STREAMS; null: 256, or a quarter of the connections). */
  readonly maxStreams: number | null;
  /** True for the default base: in a temp folder others can write to, so it must be this user's alone. */
  readonly workspacesBaseIsPrivate: boolean;
  /**
   * This home's working directories: `<base>/<home name>-<hash of the home's path>`. Never inside the
   * home, which holds the token (see core/workspaces.ts).
   */
  readonly workspaces: string;
  /**
   * The whole environment this process started with, frozen. Workers get a clean part of it (see
   * worker/environment.ts); a project's `pass_env` names are looked up here.
   */
  readonly environment: Readonly<Record<string, string>>;
}

/** `env` defaults to this process's environment with the settings it took off it (see settings-handover.ts). */
export function loadConfig(env: Record<string, string | undefined> = settingsEnvironment()): Config {
  const picked = {
    VILANO_HOME: env.VILANO_HOME,
    VILANO_LOG_LEVEL: env.VILANO_LOG_LEVEL,
    VILANO_PORT: env.VILANO_PORT,
    VILANO_WORKERS: env.VILANO_WORKERS,
    VILANO_WORKER_LEASE: env.VILANO_WORKER_LEASE,
    VILANO_DATABASE_URL: env.VILANO_DATABASE_URL || undefined,
    VILANO_IMPORT_TIMEOUT: env.VILANO_IMPORT_TIMEOUT,
    VILANO_DAEMON_LEASE: env.VILANO_DAEMON_LEASE,
    VILANO_MAX_VALUE_BYTES: env.VILANO_MAX_VALUE_BYTES,
    VILANO_WORKSPACES: env.VILANO_WORKSPACES || undefined,
    VILANO_MAX_CONNECTIONS: env.VILANO_MAX_CONNECTIONS || undefined,
    VILANO_MAX_STREAMS: env.VILANO_MAX_STREAMS || undefined,
  };
  const parsed = v.safeParse(EnvSchema, picked);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue?.path?.map((p) => String(p.key)).join(".") ?? "environment";
    throw new VilanoError("validation_failed", `invalid environment variable ${field}: ${issue?.message ?? "invalid"}`, {
      details: { field },
    });
  }
  const home = resolve(parsed.output.VILANO_HOME ?? join(homedir(), ".vilano"));
  const chosenBase = parsed.output.VILANO_WORKSPACES;
  const workspacesBase = resolve(chosenBase ?? join(env.TMPDIR || "/tmp", `vilano-${process.getuid?.() ?? "user"}`));
  const workspaces = workspacesRootFor(workspacesBase, home, chosenBase === undefined ? "TMPDIR" : "VILANO_WORKSPACES");
  return Object.freeze({
    home,
    logLevel: parsed.output.VILANO_LOG_LEVEL ?? "info",
    databasePath: join(home, "runtime.sqlite"),
    database: parsed.output.VILANO_DATABASE_URL ?? join(home, "runtime.sqlite"),
    port: parsed.output.VILANO_PORT ?? 4141,
    workers: parsed.output.VILANO_WORKERS ?? defaultWorkerCount(),
    workerLeaseMs: parsed.output.VILANO_WORKER_LEASE ?? 5_000,
    importTimeoutMs: parsed.output.VILANO_IMPORT_TIMEOUT ?? 10_000,
    daemonLeaseMs: parsed.output.VILANO_DAEMON_LEASE ?? 10_000,
    maxValueBytes: parsed.output.VILANO_MAX_VALUE_BYTES ?? DEFAULT_MAX_VALUE_BYTES,
    maxConnections: parsed.output.VILANO_MAX_CONNECTIONS ?? null,
    maxStreams: parsed.output.VILANO_MAX_STREAMS ?? null,
    workspacesBase,
    workspacesBaseIsPrivate: chosenBase === undefined,
    workspaces,
    environment: Object.freeze(Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined))),
  });
}

/**
 * A fault test's crash point, `VILANO_CRASH_AT=<point>[@<n>]` (see crash-points.ts); null when unset,
 * as always outside fault tests. Kept out of `Config` (a test-only hook, not a setting); a name that
 * is no declared point is refused here, at start, so a typo never silently fails to crash.
 */
export function loadCrashPlan(env: Record<string, string | undefined> = settingsEnvironment()): CrashPlan | null {
  return env.VILANO_CRASH_AT ? parseCrashAt(env.VILANO_CRASH_AT) : null;
}

/**
 * The folder of `home`'s workspaces under `base`: `<base>/<home name>-<hash of its path>`, readable
 * and one per home. Refused (naming `field`, the setting that chose the base) when it would be inside
 * the home, which holds the token — the home as it is named, or (`realHome`) as its links lead.
 */
export function workspacesRootFor(base: string, home: string, field: string, realHome: string = home): string {
  const name = basename(home).replace(/[^A-Za-z0-9_-]/g, "") || "home";
  const root = join(base, `${name}-${createHash("sha256").update(home).digest("hex").slice(0, 12)}`);
  const inside = (folder: string) => {
    const rel = relative(folder, root);
    return rel === "" || (rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
  };
  if (inside(home) || inside(realHome)) {
    throw new VilanoError("validation_failed", `invalid environment variable ${field}: it puts workspaces inside VILANO_HOME (${home}), which holds the token; choose a folder outside it`, {
      details: { field },
    });
  }
  return root;
}
