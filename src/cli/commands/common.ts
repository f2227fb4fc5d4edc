/** What several commands share: the `--json` flag, the instance key, narrowing a list to one project. */
import { daemonClient } from "../daemon-control.ts";

export const json = { type: "boolean", description: "Machine-readable output on stdout" } as const;
/** The instance key; `--service-key` is the spelling the SDK's readers know from other tools. */
export const instanceKey = { type: "string", required: true, alias: "service-key", description: "Instance key (also --service-key)" } as const;
/** `workflow list <project>` and `--project <project>` both narrow a list to one project. */
export const projectArgs = {
  name: { type: "positional", required: false, description: "Only this project" },
  project: { type: "string", description: "Only this project" },
} as const;

export async function projectsMatching(project: string | undefined) {
  const all = await daemonClient().projects.list();
  return project === undefined ? all : all.filter((p) => p.name === project);
}
