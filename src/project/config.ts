/**
 * `vilano.toml`: a project's optional settings for the processes that run its code.
 *
 * ```toml
 * [worker]
 * isolation = "pooled"          # or "fresh": every activation in a new process
 * workspace = "activation"      # or "shared": one working directory for every activation, kept
 * keep_workspace = false        # true: an activation's directory stays after it ends
 * pass_env = ["OPENAI_API_KEY"] # copied from the daemon's environment when a worker starts
 * spare_workers = 2             # extra workers while every worker is blocked (0: none)
 * spare_after = "3s"            # how long a worker holding work is silent before it counts as blocked
 * user = "vilano-worker"        # run the workers as this OS user (the daemon must run as root)
 *
 * [worker.env]
 * API_BASE = "https://api.example.com"
 * ```
 * Names starting with `VILANO_` are refused: the runtime's own settings never reach user code.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { parseDuration, VilanoError } from "../shared/index.ts";
import { validateFile } from "./manifest.ts";

export const CONFIG_FILE = "vilano.toml";

const EnvName = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name (letters, digits, _)"),
  v.check((name) => !name.toUpperCase().startsWith("VILANO_"), "VILANO_* variables are the runtime's own and never reach user code"),
);

/** The bound on `spare_workers`: spares are for getting past blocked workers, not for scaling. */
export const MAX_SPARE_WORKERS = 64;
/**
 * A worker holding work heartbeats every second, so `spare_after` must leave room for a late beat:
 * shorter silence does not say the worker is blocked.
 */
export const MIN_SPARE_AFTER_MS = 2_000;
const MAX_SPARE_AFTER_MS = 3_600_000;

const durationMs = (text: string): number | null => {
  try {
    return parseDuration(text);
  } catch {
    return null;
  }
};

const SpareAfter = v.pipe(
  v.string('must be a duration such as "3s"'),
  v.check((text) => durationMs(text) !== null, 'must be a duration such as "3s"'),
  v.transform((text) => durationMs(text)!),
  v.minValue(MIN_SPARE_AFTER_MS, "must be at least 2s (a busy worker heartbeats every second)"),
  v.maxValue(MAX_SPARE_AFTER_MS, "must be at most 1h"),
);

const ConfigSchema = v.strictObject({
  worker: v.optional(
    v.strictObject({
      isolation: v.optional(v.picklist(["pooled", "fresh"], 'must be "pooled" or "fresh"'), "pooled"),
      workspace: v.optional(v.picklist(["activation", "shared"], 'must be "activation" (a fresh directory per activation) or "shared"'), "activation"),
      keep_workspace: v.optional(v.boolean("must be true or false"), false),
      pass_env: v.optional(v.array(EnvName), []),
      env: v.optional(v.record(EnvName, v.string("must be a string")), {}),
      spare_workers: v.optional(
        v.pipe(v.number("must be a whole number"), v.integer("must be a whole number"), v.minValue(0, "must be at least 0"), v.maxValue(MAX_SPARE_WORKERS, `must be at most ${MAX_SPARE_WORKERS}`)),
      ),
      spare_after: v.optional(SpareAfter),
      user: v.optional(v.pipe(v.string("must be a user name"), v.regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/, "must be a user name (letters, digits, _ . -)"))),
    }),
    {},
  ),
});

export interface ProjectConfig {
  isolation: "pooled" | "fresh";
  /** `activation`: each activation works in a fresh directory of its own; `shared`: all in one, kept. */
  workspace: "activation" | "shared";
  /** Keep an activation's directory after it ends (to look at what it left). */
  keepWorkspace: boolean;
  /** Names copied from the daemon's environment when a worker starts. */
  passEnv: readonly string[];
  env: Readonly<Record<string, string>>;
  /** Workers the pool may start beyond its size while every one of this code's workers is blocked. */
  spareWorkers: number;
  /** Silence of a worker holding work after which it counts as blocked (its event loop is busy). */
  spareAfterMs: number;
  /** The OS user its workers run as (the daemon must be root); null: the daemon's own user. */
  user: string | null;
}

export const DEFAULT_SPARE_WORKERS = 2;
export const DEFAULT_SPARE_AFTER_MS = 3_000;

export const DEFAULT_PROJECT_CONFIG: ProjectConfig = Object.freeze({
  isolation: "pooled",
  workspace: "activation",
  keepWorkspace: false,
  passEnv: [],
  env: {},
  spareWorkers: DEFAULT_SPARE_WORKERS,
  spareAfterMs: DEFAULT_SPARE_AFTER_MS,
  user: null,
});

export function parseProjectConfig(text: string, source = CONFIG_FILE): ProjectConfig {
  let raw: unknown;
  try {
    raw = Bun.TOML.parse(text);
  } catch (cause) {
    throw new VilanoError("validation_failed", `${source} is not valid TOML: ${(cause as Error).message}`, { cause });
  }
  const worker = validateFile(ConfigSchema, raw, source).worker ?? {};
  return {
    isolation: worker.isolation ?? "pooled",
    workspace: worker.workspace ?? "activation",
    keepWorkspace: worker.keep_workspace ?? false,
    passEnv: worker.pass_env ?? [],
    env: worker.env ?? {},
    spareWorkers: worker.spare_workers ?? DEFAULT_SPARE_WORKERS,
    spareAfterMs: worker.spare_after ?? DEFAULT_SPARE_AFTER_MS,
    user: worker.user ?? null,
  };
}

/** The project's config from its folder (or snapshot); the defaults when it has no `vilano.toml`. */
export function readProjectConfig(dir: string): ProjectConfig {
  const path = join(dir, CONFIG_FILE);
  return existsSync(path) ? parseProjectConfig(readFileSync(path, "utf8"), path) : DEFAULT_PROJECT_CONFIG;
}
