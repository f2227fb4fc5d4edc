/**
 * Sealed project snapshots: `project add|sync` copies the project (minus .git, node_modules and
 * .vilano) into `<home>/snapshots/<project>/<hash>/`, read-only, named by the hash of its content,
 * so runs can stay pinned to exactly the code they started on. A `node_modules` folder, when the
 * project has one, is linked rather than copied.
 */
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { projectFiles } from "./walk.ts";
import { dirname, isAbsolute, join, relative } from "node:path";
import { VilanoError } from "../shared/index.ts";

const EXCLUDED = new Set([".git", "node_modules", ".vilano"]);

export interface Snapshot {
  /** Content hash (hex sha256, first 16 characters). */
  id: string;
  dir: string;
  /** False when a snapshot with the same content already existed and was reused. */
  created: boolean;
}

export interface SnapshotEntry {
  id: string;
  dir: string;
  /** When its folder was filled (a reused snapshot keeps the time it was first made). */
  createdAt: number;
}

const SNAPSHOT_ID = /^[0-9a-f]{16}$/;

/**
 * The project's complete snapshots on disk, newest first (a copy being built has another name).
 * One removed while this reads (a sync that failed) is left out rather than an error.
 */
export function listSnapshots(snapshotsDir: string, project: string): SnapshotEntry[] {
  const root = join(snapshotsDir, project);
  if (!existsSync(root)) return [];
  const found: SnapshotEntry[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !SNAPSHOT_ID.test(entry.name)) continue;
    const dir = join(root, entry.name);
    const stat = statSync(dir, { throwIfNoEntry: false });
    if (stat) found.push({ id: entry.name, dir, createdAt: Math.round(stat.mtimeMs) });
  }
  return found.sort((a, b) => b.createdAt - a.createdAt || a.id.localeCompare(b.id));
}

/** Removes a snapshot folder (they are sealed read-only, so permissions are opened first). */
export function removeSnapshot(dir: string): void {
  if (!existsSync(dir)) return;
  Bun.spawnSync(["chmod", "-R", "u+w", dir]);
  rmSync(dir, { recursive: true, force: true });
}

const files = (root: string) => projectFiles(root, (entry, dir) => dir === root && EXCLUDED.has(entry));

/** Hashes the project's files (paths and contents) in a stable order. */
export function hashProject(projectDir: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (const path of files(projectDir)) {
    hasher.update(relative(projectDir, path));
    hasher.update("\0");
    hasher.update(readFileSync(path));
    hasher.update("\0");
  }
  return hasher.digest("hex").slice(0, 16);
}

function seal(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    // lstat: a symbolic link is left as it is (chmod would follow it out of the snapshot).
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink() || entry === "node_modules") continue;
    if (stat.isDirectory()) seal(path);
    else chmodSync(path, 0o444);
  }
  chmodSync(dir, 0o555);
}

/**
 * Builds snapshot folder `dir` with `fill` under a temporary name, links `node_modules` to the
 * project folder's when there is one, seals it and renames it into place, so a crash never leaves
 * a half-made snapshot.
 */
function buildSealed(dir: string, projectDir: string | null, fill: (building: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  const building = `${dir}.building-${process.pid}`;
  removeSnapshot(building);
  try {
    fill(building);
    if (projectDir !== null && existsSync(join(projectDir, "node_modules"))) symlinkSync(join(projectDir, "node_modules"), join(building, "node_modules"));
    seal(building);
    renameSync(building, dir);
  } catch (error) {
    // Nothing half-built stays behind.
    removeSnapshot(building);
    throw error;
  }
}

/** Copies the project into a sealed snapshot, or reuses the one with the same content. */
export function createSnapshot(projectDir: string, snapshotsDir: string, project: string): Snapshot {
  if (!existsSync(projectDir) || !statSync(projectDir).isDirectory()) {
    throw new VilanoError("not_found", `project folder ${projectDir} does not exist`);
  }
  const id = hashProject(projectDir);
  const dir = join(snapshotsDir, project, id);
  if (existsSync(dir)) return { id, dir, created: false };
  buildSealed(dir, projectDir, (building) =>
    cpSync(projectDir, building, {
      recursive: true,
      filter: (src) => !EXCLUDED.has(relative(projectDir, src).split(/[\\/]/)[0]!),
    }),
  );
  return { id, dir, created: true };
}

/** A file of a snapshot, as another machine makes the same snapshot from it. */
export interface SnapshotFile {
  /** Relative to the snapshot's folder, with `/`. */
  path: string;
  content: Uint8Array;
}

/** The files of a sealed snapshot (its `node_modules` link left out: it names a folder of this machine). */
export function snapshotFiles(dir: string): SnapshotFile[] {
  return [...files(dir)].map((path) => ({ path: relative(dir, path).split(/[\\/]/).join("/"), content: readFileSync(path) }));
}

/**
 * Makes snapshot `id` of `project` here from files another daemon stored, sealed like one made by
 * `createSnapshot`, and checks that they hash to `id`. Its `node_modules` links to the project
 * folder's when this machine has that folder.
 */
export function restoreSnapshot(stored: readonly SnapshotFile[], snapshotsDir: string, project: string, id: string, projectDir: string | null): string {
  const dir = join(snapshotsDir, project, id);
  if (existsSync(dir)) return dir;
  buildSealed(dir, projectDir, (building) => {
    for (const file of stored) {
      // Stored by a daemon, yet read as untrusted: a path never leaves the folder.
      if (isAbsolute(file.path) || file.path.split("/").some((part) => part === ".." || part === "")) {
        throw new VilanoError("validation_failed", `the stored snapshot ${project}@${id} has a file outside its folder: ${JSON.stringify(file.path)}`);
      }
      const target = join(building, file.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.content);
    }
    // Before the node_modules link goes in: the hash is of the project's own files.
    const hash = hashProject(building);
    if (hash !== id) throw new VilanoError("validation_failed", `the stored snapshot ${project}@${id} does not match its content (it hashes to ${hash})`);
  });
  return dir;
}
