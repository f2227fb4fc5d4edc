/**
 * Where user code works. Every activation gets a fresh directory of its own — `ctx.exec`'s default
 * working directory and `ctx.workspace` — made when first needed (most activations never touch the
 * disk) and removed when the activation ends, unless the project keeps them or opts into one shared
 * directory. Everything lives under a root outside the runtime home, so no folder above a workspace
 * holds the token:
 *
 *     <root>/<project>/shared/                        the project's pooled workers start here (and, with
 *                                                     `workspace = "shared"`, every activation works here)
 *     <root>/<project>/runs/<run>-<hash>.<fence>/     one activation: the run id made safe for a file
 *                                                     name, a hash of it, and the lease fence
 *     <root>/<project>/kept/<run>-<hash>.<fence>/     the same, for a project that keeps them
 *
 * What is under `runs/` belongs to activations of this process: a daemon starting over its home's
 * root removes what a predecessor killed with -9 left there (`sweepLeftoverWorkspaces`).
 *
 * Each directory links the code's `node_modules` in, so programs run there find the project's packages.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, fstatSync, lchownSync, lstatSync, mkdirSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, type Stats } from "node:fs";
import { chmod, readdir, rm, rmdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { closeFolder, openFolder, pathIn, VilanoError, type FolderOwner } from "../shared/index.ts";

export interface WorkspaceSettings {
  /** `activation`: a fresh directory per activation; `shared`: one directory for all, never removed. */
  mode: "activation" | "shared";
  /** Keep an activation's directory once it ends. */
  keep: boolean;
}

/** Where one body of code's workers and activations work. */
export interface CodeWorkspace {
  /** The working directory of its pooled workers (and of every activation in shared mode). */
  readonly shared: string;
  /** The directory of the activation of `runId` under lease `fence` (`shared` in shared mode). */
  activation(runId: string, fence: number): string;
  /** Whether an activation's directory is removed when the activation ends. */
  readonly removeAfter: boolean;
  /** The runtime's own directories (the code's node_modules linked in); false for a folder the embedder chose, used as it is. */
  readonly managed: boolean;
}

/** The workspaces of `label`'s code (a project's name) under `root`. */
export function codeWorkspace(root: string, label: string, settings: WorkspaceSettings): CodeWorkspace {
  const base = join(root, label);
  const shared = join(base, "shared");
  if (settings.mode === "shared") return { shared, activation: () => shared, removeAfter: false, managed: true };
  const parent = join(base, settings.keep ? "kept" : "runs");
  return { shared, activation: (runId, fence) => join(parent, activationDirName(runId, fence)), removeAfter: !settings.keep, managed: true };
}

/** One folder every activation works in, chosen by whoever embeds the runtime: never removed. */
export function fixedWorkspace(dir: string): CodeWorkspace {
  return { shared: dir, activation: () => dir, removeAfter: false, managed: false };
}

/**
 * A run id made safe for a file name (ids of children and service instances hold `~`, `/` and `:`),
 * cut to a readable length; the hash keeps ids that read alike apart, the fence one activation from
 * the next.
 */
export function activationDirName(runId: string, fence: number): string {
  const readable = runId.replace(/[^A-Za-z0-9_.@~-]/g, "_").slice(0, 80);
  const hash = createHash("sha256").update(runId).digest("hex").slice(0, 8);
  return `${readable}-${hash}.${fence}`;
}

/**
 * Makes the folder every root goes under and returns its real path (so the paths handed to user
 * code are the ones `pwd -P` prints). The default one is in a temp folder others can write to, so it
 * must be this user's alone: a link, another owner or group/other write access is refused.
 */
export function ensureWorkspacesBase(base: string, isPrivate: boolean): string {
  mkdirSync(base, { recursive: true, mode: 0o700 });
  if (isPrivate) {
    const stat = lstatSync(base);
    const uid = process.getuid?.();
    if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
      throw new VilanoError(
        "validation_failed",
        `${base} is not a folder of this user's alone (a link, another owner, or writable by others): workspaces are not made there`,
        { hint: "remove it, or choose another folder with VILANO_WORKSPACES", details: { path: base } },
      );
    }
  }
  return realpathSync(base);
}

/**
 * Makes `dir` (0700) and links `codeDir`'s `node_modules` into it; harmless when both are there.
 * `belowWorkerUser`: `dir` is in the folders of a project's `[worker] user` (see makeWorkspaceFolder).
 */
export function prepareWorkspace(dir: string, codeDir: string | null, belowWorkerUser: boolean): void {
  if (!belowWorkerUser || process.getuid?.() !== 0) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (codeDir !== null) linkModules(codeDir, (name) => join(dir, name), null);
    return;
  }
  // Root, in folders a `[worker] user` owns: every name is resolved in a folder held open, never through a link it put there.
  const folder = openFolder(dir, { mode: 0o700, owner: ownerToGive });
  try {
    if (codeDir !== null) linkModules(codeDir, (name) => pathIn(folder, name), ownerToGive(fstatSync(folder.fd)) ?? null);
  } finally {
    closeFolder(folder);
  }
}

/** Links `codeDir`'s `node_modules` in as `at("node_modules")`, given to `owner` (never followed) when there is one. */
function linkModules(codeDir: string, at: (name: string) => string, owner: FolderOwner | null): void {
  const modules = join(codeDir, "node_modules");
  if (!existsSync(modules)) return;
  const link = at("node_modules");
  let current: string | null = null;
  try {
    current = readlinkSync(link);
  } catch {
    // Not a link: missing, or a folder of the code's own (a shared directory), which is left alone.
    if (existsSync(link)) return;
  }
  if (current === modules) return;
  // Replaced in one step: activations of another snapshot may share the directory (shared mode).
  const temporary = at(`node_modules.${randomBytes(6).toString("hex")}`);
  symlinkSync(modules, temporary);
  if (owner) lchownSync(temporary, owner.uid, owner.gid);
  try {
    renameSync(temporary, link);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * Makes `dir` (0700, with any missing folder above it): a working directory's folder. A daemon
 * running as root that makes it in a folder of another user's — the project's folder of a
 * `[worker] user` (`belowWorkerUser`), whose workers must write there — gives what it made to that
 * user, as the user's own workers would have made it; it never follows a link that user put on the
 * way (a `FolderLinkError` naming it instead). Any other project's folders are made as `mkdir -p`
 * makes them: nobody but the daemon's own user works there, and a workspaces folder reached through a
 * link (VILANO_WORKSPACES, TMPDIR or an embedder's `workspace` through one in /tmp) stays usable.
 */
export function makeWorkspaceFolder(dir: string, belowWorkerUser: boolean): void {
  if (!belowWorkerUser || process.getuid?.() !== 0) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  closeFolder(openFolder(dir, { mode: 0o700, owner: ownerToGive }));
}

/** The owner of the folder things are made in, when this process is root and that owner is not. */
const ownerToGive = (folder: Stats): FolderOwner | undefined => (folder.uid !== 0 ? { uid: folder.uid, gid: folder.gid } : undefined);

/**
 * The workspace of one activation, made the first time it is needed. A failure to make it is told
 * to `onError` rather than thrown: the exec that needed it then fails as a retryable `process_spawn`
 * naming the directory, like any missing working directory.
 */
export function lazyWorkspace(dir: string, codeDir: string | null, onError: (error: unknown) => void, onMade?: () => void): () => void {
  let made = false;
  return () => {
    if (made) return;
    try {
      // This process's own activations (in-process, or a worker as whatever user it runs as): no other user's folders.
      prepareWorkspace(dir, codeDir, false);
      made = true;
      onMade?.();
    } catch (error) {
      onError(error);
    }
  };
}

/** Removes a workspace and everything in it (links are removed, never followed). */
export async function removeWorkspace(dir: string): Promise<void> {
  // Most activations never made theirs: one stat here, rather than a trip through the thread pool.
  if (!existsSync(dir)) return;
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "EACCES" && code !== "EPERM") throw error;
    // Code may leave folders it cannot write into (a read-only checkout): open them up and go again.
    await makeWritable(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => undefined);
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) if (entry.isDirectory()) await makeWritable(join(dir, entry.name));
}

/**
 * Removes the folders under `root` that hold nothing (the projects' emptied `runs/` and unused
 * `shared/`), then the root itself if it is empty: what a runtime leaves when it closes is only what
 * someone asked to keep.
 */
export async function pruneEmptyWorkspaces(root: string): Promise<void> {
  const projects = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const project of projects) {
    if (!project.isDirectory() || project.name.startsWith(".")) continue;
    for (const inner of ["runs", "kept", "shared"]) await rmdirIfEmpty(join(root, project.name, inner));
    await rmdirIfEmpty(join(root, project.name));
  }
  await rmdirIfEmpty(root);
}

/**
 * A daemon starting over its home's root (no activation of it runs yet, and its workers died with
 * the one before): every activation directory left under a project's `runs/` belongs to an
 * activation that ended when its process was killed, and goes. Kept ones (`kept/`) stay.
 */
export async function sweepLeftoverWorkspaces(root: string): Promise<void> {
  const projects = await readdir(root, { withFileTypes: true }).catch(() => []);
  // Dot folders are not projects' (`.code`, the copies of snapshots run as another user: see runtime/worker-user-places.ts).
  for (const project of projects) if (project.isDirectory() && !project.name.startsWith(".")) await removeWorkspace(join(root, project.name, "runs"));
}

async function rmdirIfEmpty(dir: string): Promise<void> {
  // rmdir refuses a folder that holds anything: exactly the check wanted, without a race.
  await rmdir(dir).catch(() => undefined);
}

/** The name of one embedded runtime's folder of workspaces: its own, gone when it closes. */
export function embeddedWorkspacesName(): string {
  return `embedded.${process.pid}.${randomBytes(4).toString("hex")}`;
}
