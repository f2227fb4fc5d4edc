/**
 * `<project/name>` targets on the command line; the project may be dropped when the current
 * directory is inside a registered project's folder.
 */
import { sep } from "node:path";
import type { VilanoClient } from "../client/index.ts";
import { VilanoError } from "../shared/index.ts";

export async function resolveTarget(client: VilanoClient, target: string, what: "workflow" | "service", cwd = process.cwd()): Promise<string> {
  if (target.includes("/")) return target;
  const projects = await client.projects.list();
  const inside = projects
    .filter((p) => cwd === p.path || cwd.startsWith(p.path + sep))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (!inside) {
    throw new VilanoError("validation_failed", `${JSON.stringify(target)} names no project: write <project>/<${what}>, or run the command inside a registered project's folder`);
  }
  return `${inside.name}/${target}`;
}
