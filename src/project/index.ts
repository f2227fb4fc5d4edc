/** Projects: manifests, path confinement and manifest generation. (Snapshots and loading come next.) */
export { MANIFEST_FILE, ManifestSchema, parseManifest, confinePath, type Manifest, type ManifestDefinition } from "./manifest.ts";
export { scanDefinitions, buildManifest, type ScannedDefinition } from "./scan.ts";
