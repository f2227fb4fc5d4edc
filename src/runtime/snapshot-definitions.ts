/**
 * The daemon's catalog: each run's code comes from the snapshot it is pinned to, loaded once per
 * snapshot and kept. A snapshot that cannot be loaded leaves its runs pending, with the reason logged.
 */
import { join } from "node:path";
import { describeDefinitions, indexDefinitions, type Catalog, type CodeInfo, type Definitions } from "../core/index.ts";
import { loadDefinitions, MANIFEST_FILE, parseManifest } from "../project/index.ts";
import type { Logger } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";

export interface SnapshotDefinitions extends Catalog {
  /** Loads (once) the definitions of a snapshot folder. */
  ensure(project: string, snapshotId: string): Promise<{ definitions: Definitions; code: CodeInfo }>;
  definitions(run: RunRow): Definitions;
}

export function createSnapshotDefinitions(snapshotsDir: string, logger: Logger): SnapshotDefinitions {
  const loaded = new Map<string, { definitions: Definitions; code: CodeInfo }>();
  const loading = new Map<string, Promise<{ definitions: Definitions; code: CodeInfo }>>();
  const key = (project: string, snapshotId: string) => `${project}@${snapshotId}`;
  const dirOf = (project: string, snapshotId: string) => join(snapshotsDir, project, snapshotId);

  async function ensure(project: string, snapshotId: string) {
    const k = key(project, snapshotId);
    const ready = loaded.get(k);
    if (ready) return ready;
    let pending = loading.get(k);
    if (!pending) {
      pending = (async () => {
        const dir = dirOf(project, snapshotId);
        const manifest = parseManifest(await Bun.file(join(dir, MANIFEST_FILE)).text(), `${project} snapshot ${snapshotId} manifest`);
        const { workflows, services } = await loadDefinitions(dir, manifest);
        const entry = { definitions: indexDefinitions([...workflows, ...services]), code: describeDefinitions(workflows, services) };
        loaded.set(k, entry);
        return entry;
      })().finally(() => loading.delete(k));
      loading.set(k, pending);
    }
    return pending;
  }

  const entryOf = (run: RunRow) => (run.snapshotId === null ? undefined : loaded.get(key(run.project, run.snapshotId)));
  return {
    ensure,
    current: (run) => entryOf(run)?.code ?? null,
    codeRef: (run) => (run.snapshotId === null ? null : { id: key(run.project, run.snapshotId), dir: dirOf(run.project, run.snapshotId) }),
    definitions: (run) => entryOf(run)!.definitions,
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
