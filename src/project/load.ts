/**
 * Loads a project's declared definitions from its snapshot and checks each export: it must exist,
 * be a definition of the declared kind and carry the declared name. Importing runs the project's
 * top-level code: registration is a trusted local-code step.
 */
import { isServiceDefinition, isWorkflowDefinition, type AnyServiceDefinition, type WorkflowDefinition } from "../sdk/index.ts";
import { VilanoError } from "../shared/index.ts";
import { confinePath, type Manifest, type ManifestDefinition } from "./manifest.ts";
import { installSdkModule } from "./sdk-module.ts";

export interface LoadedDefinitions {
  workflows: WorkflowDefinition[];
  services: AnyServiceDefinition[];
}

function describeExports(module: Record<string, unknown>): string {
  const names = Object.keys(module);
  if (names.length === 0) return "it exports nothing";
  return `its exports: ${names
    .map((name) => {
      const value = module[name] as { kind?: unknown; name?: unknown } | null;
      const kind = value && typeof value === "object" && typeof value.kind === "string" ? ` (${value.kind} "${String(value.name)}")` : "";
      return `${name}${kind}`;
    })
    .join(", ")}`;
}

/** `onImport` hears each file just before it is imported (a worker reports it, so a hang names its file). */
export async function loadDefinitions(snapshotDir: string, manifest: Manifest, onImport?: (file: string) => void): Promise<LoadedDefinitions> {
  installSdkModule();
  const loaded: LoadedDefinitions = { workflows: [], services: [] };
  const declared: ManifestDefinition[] = [...manifest.definitions.workflows, ...manifest.definitions.services];
  for (const d of declared) {
    const path = confinePath(snapshotDir, d.file);
    let module: Record<string, unknown>;
    onImport?.(d.file);
    try {
      module = (await import(path)) as Record<string, unknown>;
    } catch (cause) {
      throw new VilanoError("validation_failed", `${d.file} failed to load: ${(cause as Error).message}`, { cause, details: { file: d.file } });
    }
    const value = module[d.exportName];
    const where = `${d.file} export "${d.exportName}"`;
    if (value === undefined) {
      throw new VilanoError("validation_failed", `${where} is missing; ${describeExports(module)}`, { details: { file: d.file, exportName: d.exportName } });
    }
    const ok = d.kind === "workflow" ? isWorkflowDefinition(value) : isServiceDefinition(value);
    if (!ok) {
      throw new VilanoError("validation_failed", `${where} is not a ${d.kind}() definition; ${describeExports(module)}`, {
        details: { file: d.file, exportName: d.exportName, expected: d.kind },
      });
    }
    const actualName = (value as { name: string }).name;
    if (actualName !== d.name) {
      throw new VilanoError("validation_failed", `${where} is ${d.kind} "${actualName}", but the manifest declares "${d.name}"`, {
        details: { file: d.file, exportName: d.exportName, declared: d.name, actual: actualName },
      });
    }
    if (d.kind === "workflow") loaded.workflows.push(value as WorkflowDefinition);
    else loaded.services.push(value as AnyServiceDefinition);
  }
  return loaded;
}
