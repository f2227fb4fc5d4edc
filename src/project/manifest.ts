/**
 * `vilano.manifest.json`: the definitions a project declares. Parsed with valibot at the edge;
 * every path must stay inside the project (no absolute paths, no `..`, no symlink escape).
 */
import { realpathSync } from "node:fs";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import * as v from "valibot";
import { isValidName, VilanoError } from "../shared/index.ts";

export const MANIFEST_FILE = "vilano.manifest.json";

const NameSchema = v.pipe(
  v.string(),
  v.check(isValidName, 'must use letters, digits, "_", "." or "-", starting with a letter or "_"'),
);

const definitionSchema = <K extends "workflow" | "service">(kind: K) =>
  v.object({
    kind: v.literal(kind),
    name: NameSchema,
    exportName: v.pipe(v.string(), v.regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, "must be a JavaScript identifier")),
    file: v.pipe(v.string(), v.minLength(1, "must not be empty")),
    runtimeKind: v.optional(v.literal("javascript"), "javascript"),
    sourceLanguage: v.optional(v.picklist(["typescript", "javascript"]), "typescript"),
  });

export const ManifestSchema = v.object({
  manifestVersion: v.literal(1),
  definitions: v.object({
    workflows: v.optional(v.array(definitionSchema("workflow")), []),
    services: v.optional(v.array(definitionSchema("service")), []),
  }),
});

export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type ManifestDefinition = Manifest["definitions"]["workflows"][number] | Manifest["definitions"]["services"][number];

/** Parses manifest text; errors name the field (`definitions.workflows[0].name`) and the problem. */
export function parseManifest(text: string, source = MANIFEST_FILE): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new VilanoError("validation_failed", `${source} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const manifest = validateFile(ManifestSchema, raw, source);
  const all = [...manifest.definitions.workflows, ...manifest.definitions.services];
  const seen = new Map<string, string>();
  for (const d of all) {
    const id = `${d.kind} "${d.name}"`;
    if (seen.has(id)) throw new VilanoError("validation_failed", `${source} declares ${id} twice`);
    seen.set(id, d.file);
  }
  return manifest;
}

/** Checks a parsed settings file; the error lists every issue as `field.path: problem`. */
export function validateFile<S extends v.GenericSchema>(schema: S, raw: unknown, source: string): v.InferOutput<S> {
  const parsed = v.safeParse(schema, raw);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new VilanoError("validation_failed", `${source} is invalid:\n  ${issues.join("\n  ")}`, { details: { issues } });
}

function formatPath(path: v.BaseIssue<unknown>["path"]): string {
  if (!path || path.length === 0) return "(root)";
  return path.map((p, i) => (typeof p.key === "number" ? `[${p.key}]` : `${i === 0 ? "" : "."}${String(p.key)}`)).join("");
}

/**
 * Resolves a manifest path inside `projectDir`, refusing anything that leaves it: absolute paths,
 * `..` segments, and symlinks whose target lies outside.
 */
export function confinePath(projectDir: string, file: string): string {
  const bad = (why: string) =>
    new VilanoError("validation_failed", `manifest path ${JSON.stringify(file)} ${why}; paths must stay inside the project`, {
      details: { file },
    });
  if (isAbsolute(file) || /^[A-Za-z]:[\\/]/.test(file)) throw bad("is absolute");
  const normalized = normalize(file);
  if (normalized === ".." || normalized.startsWith(`..${sep}`) || normalized.split(/[\\/]/).includes("..")) throw bad("goes up with ..");
  const root = realpathSync(projectDir);
  let real: string;
  try {
    real = realpathSync(join(root, normalized));
  } catch {
    throw new VilanoError("not_found", `manifest path ${JSON.stringify(file)} does not exist in the project`, { details: { file } });
  }
  const rel = relative(root, real);
  if (rel === "" || rel.startsWith(`..${sep}`) || rel === ".." || isAbsolute(rel)) throw bad("resolves (through a symlink) outside the project");
  return real;
}
