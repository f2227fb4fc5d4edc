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
 * that fails to start.
 */
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { VilanoError } from "../shared/index.ts";
import { removeSnapshot } from "../project/index.ts";
import type { WorkerUser } from "../worker/index.ts";

/** A folder that exists, owned as asked, with `mode`. */
function ownedFolder(dir: string, uid: number, gid: number, mode: number): void {
  mkdirSync(dir, { recursive: true, mode });
  chownSync(dir, uid, gid);
  chmodSync(dir, mode);
}

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
export function prepareUserPlaces(root: string, project: string, snapshotId: string, snapshotDir: string, user: WorkerUser): UserPlaces {
  const base = dirname(root);
  // The root and its base are this daemon's: others may pass through them too, still not list them.
  for (const dir of [base, root]) {
    mkdirSync(dir, { recursive: true, mode: 0o711 });
    chmodSync(dir, (statSync(dir).mode & 0o777) | 0o011);
  }
  checkReachable(dirname(base), user);
  const own = join(root, project);
  ownedFolder(own, user.uid, user.gid, 0o700);
  for (const inner of ["shared", "runs"]) ownedFolder(join(own, inner), user.uid, user.gid, 0o700);
  const codeRoot = join(root, ".code");
  ownedFolder(codeRoot, 0, 0, 0o711);
  const codeOfProject = join(codeRoot, project);
  ownedFolder(codeOfProject, 0, user.gid, 0o750);
  const codeDir = join(codeOfProject, snapshotId);
  if (!existsSync(codeDir)) {
    // Copied whole under another name, then renamed: a worker never imports half a copy.
    const partial = `${codeDir}.partial-${process.pid}`;
    removeSnapshot(partial);
    cpSync(snapshotDir, partial, { recursive: true, verbatimSymlinks: true });
    renameSync(partial, codeDir);
  }
  return { codeDir };
}
