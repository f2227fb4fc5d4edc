/**
 * The runtime's own settings (`VILANO_*`) kept out of the daemon's environment. A process's
 * environment is readable by every process of its user (`/proc/<pid>/environ`, the block it was
 * started with: deleting from `process.env` does not change it), and user code in a worker can read
 * its parent's. So `daemon start` hands the daemon its settings on standard input instead, and the
 * daemon takes whatever `VILANO_*` it still finds off `process.env` once read, keeping them here
 * for `loadConfig`.
 */
import * as v from "valibot";
import { VilanoError } from "./errors.ts";

const SETTING_NAME = /^VILANO_[A-Z0-9_]+$/;

const SettingsSchema = v.record(v.pipe(v.string(), v.regex(SETTING_NAME, "is not a VILANO_* name")), v.string("must be a string"));

/** Settings taken off the environment or handed over: what `loadConfig` reads besides `process.env`. */
const kept: Record<string, string> = {};

const isSetting = (name: string) => name.toUpperCase().startsWith("VILANO_");

/** The environment as `loadConfig` sees it: `process.env` plus the settings kept here. */
export function settingsEnvironment(): Record<string, string | undefined> {
  return { ...process.env, ...kept };
}

/** `env` split into the runtime's settings and everything else (what a spawned daemon gets as its environment). */
export function splitSettings(env: Record<string, string | undefined>): { settings: Record<string, string>; rest: Record<string, string> } {
  const settings: Record<string, string> = {};
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (isSetting(name)) settings[name] = value;
    else rest[name] = value;
  }
  return { settings, rest };
}

/** Settings handed over as JSON (`daemon run --settings-stdin`); they win over the environment's. */
export function adoptSettings(json: string): void {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new VilanoError("validation_failed", "the settings on standard input are not JSON (`--settings-stdin` expects an object of VILANO_* names to strings)");
  }
  const parsed = v.safeParse(SettingsSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue?.path?.map((p) => String(p.key)).join(".") ?? "settings";
    throw new VilanoError("validation_failed", `invalid setting ${field} on standard input: ${issue?.message ?? "invalid"}`, { details: { field } });
  }
  Object.assign(kept, parsed.output);
}

/**
 * Takes every `VILANO_*` variable off `process.env`, keeping its value for `loadConfig` (a value
 * handed over wins). What a process spawned later inherits holds none; `/proc/<pid>/environ` of this
 * process still holds what it was started with.
 */
export function hideSettings(): void {
  for (const name of Object.keys(process.env)) {
    if (!isSetting(name)) continue;
    const value = process.env[name];
    if (value !== undefined && kept[name] === undefined) kept[name] = value;
    delete process.env[name];
  }
}
