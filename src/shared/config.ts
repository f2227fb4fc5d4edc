/**
 * The only module that reads the environment. It produces a frozen config that is passed down;
 * invalid values are errors that name the variable.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { VilanoError } from "./errors.ts";

const LOG_LEVELS = ["silent", "error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const EnvSchema = v.object({
  VILANO_HOME: v.optional(v.pipe(v.string(), v.minLength(1, "must not be empty"))),
  VILANO_LOG_LEVEL: v.optional(v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(", ")}`)),
  VILANO_PORT: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}$/, "must be a port number"), v.transform(Number), v.maxValue(65535, "must be at most 65535"))),
});

export interface Config {
  /** The runtime home: database, token, logs, snapshots. */
  readonly home: string;
  readonly logLevel: LogLevel;
  /** The default database file inside the home. */
  readonly databasePath: string;
  /** The daemon's port on 127.0.0.1 (VILANO_PORT, default 4141). */
  readonly port: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const picked = { VILANO_HOME: env.VILANO_HOME, VILANO_LOG_LEVEL: env.VILANO_LOG_LEVEL, VILANO_PORT: env.VILANO_PORT };
  const parsed = v.safeParse(EnvSchema, picked);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue?.path?.map((p) => String(p.key)).join(".") ?? "environment";
    throw new VilanoError("validation_failed", `invalid environment variable ${field}: ${issue?.message ?? "invalid"}`, {
      details: { field },
    });
  }
  const home = resolve(parsed.output.VILANO_HOME ?? join(homedir(), ".vilano"));
  return Object.freeze({
    home,
    logLevel: parsed.output.VILANO_LOG_LEVEL ?? "info",
    databasePath: join(home, "runtime.sqlite"),
    port: parsed.output.VILANO_PORT ?? 4141,
  });
}
