/** Projects: manifests, path confinement, generation, sealed snapshots and loading definitions. */
export { MANIFEST_FILE, ManifestSchema, parseManifest, confinePath, type Manifest, type ManifestDefinition } from "./manifest.ts";
export { scanDefinitions, buildManifest, type ScannedDefinition } from "./scan.ts";
export { createSnapshot, hashProject, listSnapshots, removeSnapshot, restoreSnapshot, snapshotFiles, type Snapshot, type SnapshotEntry, type SnapshotFile } from "./snapshot.ts";
export { loadDefinitions, type LoadedDefinitions } from "./load.ts";
export { installSdkModule } from "./sdk-module.ts";
export { initProject, TYPES_DIR, type InitOptions, type InitResult } from "./init.ts";
export { parseProjectConfig, readProjectConfig, CONFIG_FILE, DEFAULT_PROJECT_CONFIG, DEFAULT_SPARE_AFTER_MS, DEFAULT_SPARE_WORKERS, type ProjectConfig } from "./config.ts";
