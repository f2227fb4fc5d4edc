/** Indexes the definitions a runtime is created with, refusing anything that is not one, and duplicates. */
import { isServiceDefinition, isWorkflowDefinition, type AnyServiceDefinition, type WorkflowDefinition } from "../sdk/index.ts";
import { VilanoError } from "../shared/index.ts";

/** The definitions of an in-process runtime, by name. */
export interface Definitions {
  workflows: ReadonlyMap<string, WorkflowDefinition>;
  services: ReadonlyMap<string, AnyServiceDefinition>;
}

export function indexDefinitions(definitions: readonly unknown[]): Definitions {
  const workflows = new Map<string, WorkflowDefinition>();
  const services = new Map<string, AnyServiceDefinition>();
  definitions.forEach((definition, i) => {
    const map: Map<string, unknown> | null = isWorkflowDefinition(definition) ? workflows : isServiceDefinition(definition) ? services : null;
    if (!map) throw new VilanoError("validation_failed", `definitions[${i}] is not a workflow() or service() definition`);
    const { name, kind } = definition as { name: string; kind: string };
    if (map.has(name)) throw new VilanoError("conflict", `two ${kind} definitions are named "${name}"; names must be unique`);
    map.set(name, definition);
  });
  return { workflows, services };
}

export function requireService(definitions: Definitions, service: unknown): AnyServiceDefinition {
  const name = isServiceDefinition(service) ? service.name : typeof service === "string" ? service : undefined;
  const found = name === undefined ? undefined : definitions.services.get(name);
  if (!found) {
    const known = [...definitions.services.keys()];
    throw new VilanoError(
      "unknown_service",
      `service ${JSON.stringify(name)} is not registered with this runtime (registered services: ${known.length ? known.join(", ") : "none"})`,
      { details: { service: name, registered: known } },
    );
  }
  return found;
}
