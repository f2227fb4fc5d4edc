/**
 * The project registry: `add` snapshots a project folder, loads its declared definitions from the
 * snapshot (running its top-level code) to check every export, and records it; `sync` does the
 * same again for new runs, leaving running ones on the snapshot they started on.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createSnapshot, listSnapshots, MANIFEST_FILE, parseManifest, readProjectConfig, removeSnapshot, snapshotFiles, type Manifest } from "../project/index.ts";
import { isValidProjectName, VilanoError } from "../shared/index.ts";
import type { ApiProject, ApiProjectDetails, ApiSnapshot } from "../api/index.ts";
import type { Kernel } from "../kernel/index.ts";
import type { ProjectRow, SnapshotShelf, StoreOps } from "../store/index.ts";
import type { SnapshotCatalog } from "./snapshot-catalog.ts";

/** What the registry says about a project: the API's project shape. */
export type ProjectInfo = ApiProject;

export interface ProjectRegistry {
  add(path: string, name: string): Promise<ProjectInfo>;
  sync(name: string): Promise<ProjectInfo>;
  /** The project with its snapshots on disk: the current one, then the others newest first. */
  get(name: string): Promise<ApiProjectDetails>;
  row(name: string): Promise<ProjectRow>;
  list(): Promise<ProjectInfo[]>;
  remove(name: string): Promise<void>;
}

const definitionsOf = (manifest: Manifest) => ({
  workflows: manifest.definitions.workflows.map((w) => w.name),
  services: manifest.definitions.services.map((s) => s.name),
});

export function toProjectInfo(row: ProjectRow): ProjectInfo {
  return {
    name: row.name,
    path: row.path,
    snapshotId: row.snapshotId,
    ...definitionsOf(JSON.parse(row.manifest) as Manifest),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What a snapshot defines, from its own sealed manifest; nothing when it cannot be read (it is only shown). */
function snapshotDefinitions(dir: string): Partial<Pick<ApiSnapshot, "workflows" | "services">> {
  try {
    return definitionsOf(parseManifest(readFileSync(join(dir, MANIFEST_FILE), "utf8"), join(dir, MANIFEST_FILE)));
  } catch {
    return {};
  }
}

/**
 * Reads go to the store; writes go through the kernel's commit queue, as every write does (one
 * writer: batched, durable before the caller hears back, never interleaved with a batch).
 */
export function createProjectRegistry(
  store: Pick<StoreOps, "getProject" | "listProjects" | "liveRunsBySnapshot">,
  kernel: Pick<Kernel, "recordProject" | "forgetProject">,
  snapshotsDir: string,
  catalog: SnapshotCatalog,
  /** Where snapshots are kept for other machines (PostgreSQL), if anywhere. */
  shelf?: SnapshotShelf,
): ProjectRegistry {
  // Every call to a project reads its row (its manifest included): kept here, and dropped whenever
  // this registry — the only writer of project rows — records or forgets the project.
  const rows = new Map<string, ProjectRow>();
  async function row(name: string): Promise<ProjectRow> {
    const cached = rows.get(name);
    if (cached) return cached;
    const found = await store.getProject(name);
    if (found) rows.set(name, found);
    if (!found) {
      const known = (await store.listProjects()).map((p) => p.name);
      throw new VilanoError("not_found", `no project is named ${JSON.stringify(name)} (registered: ${known.length ? known.join(", ") : "none"})`);
    }
    return found;
  }

  /** Snapshots, loads and checks the project, then records it; nothing is recorded on failure. */
  async function register(path: string, name: string): Promise<ProjectInfo> {
    const dir = resolve(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new VilanoError("not_found", `project folder ${dir} does not exist`);
    const manifestPath = join(dir, MANIFEST_FILE);
    if (!existsSync(manifestPath)) {
      throw new VilanoError("not_found", `${manifestPath} is missing`, { hint: `create it with \`vilano init ${path}\`` });
    }
    parseManifest(readFileSync(manifestPath, "utf8"), manifestPath);
    readProjectConfig(dir);
    const snapshot = createSnapshot(dir, snapshotsDir, name);
    try {
      // Imports the code in a worker process of its own, with a time limit: never in the daemon.
      await catalog.ensure(name, snapshot.id);
    } catch (error) {
      if (snapshot.created) removeSnapshot(snapshot.dir);
      throw error;
    }
    const manifest = readFileSync(join(snapshot.dir, MANIFEST_FILE), "utf8");
    try {
      // Daemons on other machines sharing the database make the snapshot from its stored files.
      if (shelf && !(await shelf.has(name, snapshot.id))) await shelf.put(name, snapshot.id, snapshotFiles(snapshot.dir));
      await kernel.recordProject({ name, path: dir, snapshotId: snapshot.id, snapshotDir: snapshot.dir, manifest: JSON.stringify(parseManifest(manifest)) });
      rows.delete(name);
    } catch (error) {
      rows.delete(name);
      // Not recorded: a snapshot made for it alone goes too.
      if (snapshot.created && (await store.getProject(name))?.snapshotId !== snapshot.id) removeSnapshot(snapshot.dir);
      throw error;
    }
    return toProjectInfo(await row(name));
  }

  return {
    async add(path, name) {
      if (!isValidProjectName(name)) {
        throw new VilanoError("validation_failed", `invalid project name ${JSON.stringify(name)}: use 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit`);
      }
      if (await store.getProject(name)) {
        throw new VilanoError("conflict", `a project named ${JSON.stringify(name)} is already registered`, { hint: `use \`vilano project sync ${name}\`` });
      }
      return register(path, name);
    },
    sync: async (name) => register((await row(name)).path, name),
    async get(name) {
      const current = await row(name);
      const live = await store.liveRunsBySnapshot(name);
      const snapshots = listSnapshots(snapshotsDir, name).map(
        (s): ApiSnapshot => ({ id: s.id, createdAt: s.createdAt, current: s.id === current.snapshotId, liveRuns: live.get(s.id) ?? 0, ...snapshotDefinitions(s.dir) }),
      );
      // The current one first: a sync back to older code reuses that older snapshot.
      snapshots.sort((a, b) => Number(b.current) - Number(a.current));
      return { ...toProjectInfo(current), snapshots };
    },
    row,
    list: async () => (await store.listProjects()).map(toProjectInfo),
    async remove(name) {
      await row(name);
      try {
        await kernel.forgetProject(name);
      } finally {
        rows.delete(name);
      }
    },
  };
}
