/**
 * The environment a worker starts with: a clean base taken from the daemon's own (where to find
 * programs, who the user is, locale and time zone, temp dir), plus what the project configures.
 * Nothing named `VILANO_*` ever gets in, so user code never learns the runtime's settings, its
 * home or the token's place.
 */
import type { ProjectConfig } from "../project/index.ts";

const BASE = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR", "NO_COLOR", "FORCE_COLOR"];

export function workerEnvironment(daemonEnv: Record<string, string | undefined>, config: ProjectConfig): Record<string, string> {
  const env: Record<string, string> = {};
  const take = (name: string) => {
    const value = daemonEnv[name];
    if (value !== undefined && !name.toUpperCase().startsWith("VILANO_")) env[name] = value;
  };
  for (const name of BASE) take(name);
  for (const name of Object.keys(daemonEnv)) if (name.startsWith("LC_")) take(name);
  for (const name of config.passEnv) take(name);
  for (const [name, value] of Object.entries(config.env)) if (!name.toUpperCase().startsWith("VILANO_")) env[name] = value;
  return env;
}
