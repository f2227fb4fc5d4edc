/**
 * The folders a project whose workers run as another OS user (`[worker] user`) needs, outside the
 * daemon's home — which stays 0700 with the token and the database 0600, unreadable to that user:
 *
 *     <base>/ and <root>/                     0711: others may pass through, not list
 *     <root>/<project>/ (shared/, runs/)      the worker user's own, 0700: its working directories
 *     <root>/.code/<project>/                 root:<its group>, 0750: read-only copies of the snapshots
 *     <root>/.code/<project>/<snapshot>/      its workers import (the sealed one in the home is out of reach)
 *
 * A folder above the base that the user could not pass through is an error naming it, not a worker
 * that fails to start. The project folder is the user's, so its code may swap `shared/` or `runs/`
 * for a link at any time: everything under the root is made through folders held open, a link
 * there is removed (never followed), and only folders just made are handed over
 * (shared/held-folders.ts).
 */
import { chmodSync, cpSync, existsSync, fstatSync, mkdirSync, renameSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { closeFolder, FolderLinkError, isFreshFolder, makeFolderIn, openChildFolder, openFolder, pathIn, setOwner, VilanoError, type HeldFolder } from "../shared/index.ts";
import { removeSnapshot } from "../project/index.ts";
import type { WorkerUser } from "../worker/index.ts";

/**
 * `name` in `parent`, a folder only root can write into (the root, `.code`): made, or taken as it
 * is, and given `uid`:`gid` and `mode` through its descriptor (nobody else could have put it there).
 */
function rootsFolder(parent: HeldFolder, name: string, uid: number, gid: number, mode: number): HeldFolder {
  const { held } = makeFolderIn(parent, name, mode);
  try {
    setOwner(held, { uid, gid }, mode);
    return held;
  } catch (error) {
    closeFolder(held);
    throw error;
  }
}

/**
 * `name` in `parent`, a folder the worker user owns (its project folder): the user's own folder
 * (0700). Nothing is followed or handed over there but what the daemon just made: a link the
 * user's code put in its place is removed (the link, never what it points at) and the folder made
 * again; a folder the user has is left as the user keeps it.
 */
function usersFolder(parent: HeldFolder, name: string, user: WorkerUser, warn: (message: string) => void): void {
  let held: HeldFolder | null;
  try {
    held = openChildFolder(parent, name);
  } catch (error) {
    if (!(error instanceof FolderLinkError)) throw error;
    warn(`${error.path} was a symbolic link (to ${error.target}), put there by code run as ${user.name}: the link is removed and the folder made again, never followed`);
    unlinkSync(pathIn(parent, name));
    held = null;
  }
  if (held === null) {
    closeFolder(makeFolderIn(parent, name, 0o700, user).held);
    return;
  }
  try {
    const owner = statOf(held);
    if (owner.uid === user.uid) return;
    // Made by this daemon before its user was known (root's, empty): the user's now.
    if (isFreshFolder(held)) return setOwner(held, user, 0o700);
    throw new VilanoError("validation_failed", `${held.path} belongs to uid ${owner.uid}, not to ${user.name} (uid ${user.uid}), and is not empty: its workers are not started there`, {
      hint: `remove it, or give it to that user (chown -R ${user.name} ${held.path})`,
      details: { path: held.path },
    });
  } finally {
    closeFolder(held);
  }
}

const statOf = (held: HeldFolder) => fstatSync(held.fd);

/** Every folder above `dir` must let others pass (x), or the worker user could not reach what is under it. */
function checkReachable(dir: string, user: WorkerUser): void {
  for (let folder = dir; ; folder = dirname(folder)) {
    const stat = statSync(folder);
    const passes = stat.uid === user.uid ? stat.mode & 0o100 : stat.gid === user.gid ? stat.mode & 0o010 : stat.mode & 0o001;
    if (!passes) {
      throw new VilanoError("validation_failed", `[worker] user = ${JSON.stringify(user.name)}: that user cannot pass through ${folder} (mode ${(stat.mode & 0o777).toString(8)}) to reach its working directories under ${dir}`, {
        hint: `let others pass through it (chmod o+x ${folder}), or choose another place with VILANO_WORKSPACES`,
      });
    }
    if (dirname(folder) === folder) return;
  }
}

export interface UserPlaces {
  /** Where the user's workers import this snapshot from. */
  codeDir: string;
}

/**
 * Makes (or checks) the folders of `project` for `user` under the workspaces root `root`, and a copy
 * of the snapshot at `snapshotDir` its workers can read. Idempotent: a copy already made is kept.
 */
export function prepareUserPlaces(root: string, project: string, snapshotId: string, snapshotDir: string, user: WorkerUser, warn: (message: string) => void = () => {}): UserPlaces {
  const base = dirname(root);
  // The root and its base are this daemon's: others may pass through them too, still not list them.
  for (const dir of [base, root]) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    chmodSync(dir, (statSync(dir).mode & 0o777) | 0o011);
  }
  checkReachable(dirname(base), user);
  // From here on every name is resolved in a folder held open: the project folder is the user's,
  // and a link its code put there is never followed by root (see shared/held-folders.ts).
  const rootFolder = openFolder(root);
  try {
    const own = rootsFolder(rootFolder, project, user.uid, user.gid, 0o700);
    try {
      for (const inner of ["shared", "runs"]) usersFolder(own, inner, user, warn);
    } finally {
      closeFolder(own);
    }
    const codeRoot = rootsFolder(rootFolder, ".code", 0, 0, 0o711);
    closeFolder(rootsFolder(codeRoot, project, 0, user.gid, 0o750));
    closeFolder(codeRoot);
  } finally {
    closeFolder(rootFolder);
  }
  const codeDir = join(root, ".code", project, snapshotId);
  if (!existsSync(codeDir)) {
    // Copied whole under another name, then renamed: a worker never imports half a copy. (Only
    // root writes under .code, so its paths may be used as they are.)
    const partial = `${codeDir}.partial-${process.pid}`;
    removeSnapshot(partial);
    cpSync(snapshotDir, partial, { recursive: true, verbatimSymlinks: true });
    renameSync(partial, codeDir);
  }
  return { codeDir };
}
