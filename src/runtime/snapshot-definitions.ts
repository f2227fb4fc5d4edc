/**
 * The daemon's definition source: each run's code comes from the snapshot it is pinned to, loaded
 * once per snapshot and kept. A snapshot that cannot be loaded leaves its runs pending, with the
 * reason logged.
 */
import { join } from "node:path";
import { indexDefinitions, type DefinitionSource, type Definitions } from "../embedded/index.ts";
import { loadDefinitions, MANIFEST_FILE, parseManifest } from "../project/index.ts";
import type { Logger } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";

export interface SnapshotDefinitions extends DefinitionSource {
  /** Loads (once) the definitions of a snapshot folder. */
  ensure(project: string, snapshotId: string): Promise<Definitions>;
}

export function createSnapshotDefinitions(snapshotsDir: string, logger: Logger): SnapshotDefinitions {
  const loaded = new Map<string, Definitions>();
  const loading = new Map<string, Promise<Definitions>>();
  const key = (project: string, snapshotId: string) => `${project}@${snapshotId}`;

  async function ensure(project: string, snapshotId: string): Promise<Definitions> {
    const k = key(project, snapshotId);
    const ready = loaded.get(k);
    if (ready) return ready;
    let pending = loading.get(k);
    if (!pending) {
      pending = (async () => {
        const dir = join(snapshotsDir, project, snapshotId);
        const manifest = parseManifest(await Bun.file(join(dir, MANIFEST_FILE)).text(), `${project} snapshot ${snapshotId} manifest`);
        const { workflows, services } = await loadDefinitions(dir, manifest);
        const definitions = indexDefinitions([...workflows, ...services]);
        loaded.set(k, definitions);
        return definitions;
      })().finally(() => loading.delete(k));
      loading.set(k, pending);
    }
    return pending;
  }

  return {
    ensure,
    current: (run: RunRow) => (run.snapshotId === null ? null : (loaded.get(key(run.project, run.snapshotId)) ?? null)),
    async load(run: RunRow) {
      if (run.snapshotId === null) {
        logger.warn(`run ${run.id} has no project snapshot; it stays pending`);
        return false;
      }
      try {
        await ensure(run.project, run.snapshotId);
        return true;
      } catch (error) {
        logger.error(`run ${run.id}: project ${run.project} snapshot ${run.snapshotId} could not be loaded; it stays pending:`, error);
        return false;
      }
    },
  };
}
