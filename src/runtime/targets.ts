/** Parses `<project>/<name>` targets as the CLI and API take them. */
import { VilanoError } from "../shared/index.ts";

export function parseTarget(target: string, what: "workflow" | "service"): { project: string; name: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(target);
  if (!match) {
    throw new VilanoError("validation_failed", `invalid ${what} ${JSON.stringify(target)}: write it as <project>/<${what}>, e.g. my-agent/${what === "workflow" ? "reviewCoordinator" : "reviewer"}`);
  }
  return { project: match[1]!, name: match[2]! };
}
