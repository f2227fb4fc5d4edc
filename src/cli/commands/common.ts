/** What several commands share: the `--json` flag, the instance key, narrowing a list to one project. */
import { VilanoError } from "../../shared/index.ts";
import { daemonClient } from "../daemon-control.ts";

export const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;

/**
 * The instance key, as `--key` or `--service-key` (the spelling the reference README uses). Two
 * options rather than a citty alias: citty prints an alias with one dash (`-service-key`), which
 * its parser then reads as the short options -s -e -r…
 */
export const instanceKeyArgs = {
  key: { type: "string", description: "Instance key (or --service-key)" },
  "service-key": { type: "string", description: "Instance key: another spelling of --key" },
} as const;

/** The key input, for the commands that can address an instance by it (and so create it). */
export const keyJsonArg = {
  type: "string",
  description: "The instance's key input as JSON, @file to read it from a file, or - for standard input (creates the instance if needed)",
} as const;

/** The key given by `--key` or `--service-key`; both at once must agree. */
export function givenKey(args: { key?: string | undefined; "service-key"?: string | undefined }): string | undefined {
  const { key, "service-key": serviceKey } = args;
  if (key !== undefined && serviceKey !== undefined && key !== serviceKey) {
    throw new VilanoError("validation_failed", `--key ${JSON.stringify(key)} and --service-key ${JSON.stringify(serviceKey)} are two spellings of one option: give one`);
  }
  return key ?? serviceKey;
}

/** The key of commands that address an existing instance by key only. */
export function requiredKey(args: { key?: string | undefined; "service-key"?: string | undefined }): string {
  const key = givenKey(args);
  if (key === undefined) throw new VilanoError("validation_failed", "--key (or --service-key) is required: the instance's key");
  return key;
}
/** `workflow list <project>` and `--project <project>` both narrow a list to one project. */
export const projectArgs = {
  name: { type: "positional", required: false, description: "Only this project" },
  project: { type: "string", description: "Only this project" },
} as const;

export async function projectsMatching(project: string | undefined) {
  const all = await daemonClient().projects.list();
  return project === undefined ? all : all.filter((p) => p.name === project);
}
