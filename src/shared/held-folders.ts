/**
 * Folders a root process makes or hands over inside folders another user controls, without ever
 * following a link that user put there.
 *
 * Why: `mkdirSync`, `chownSync` and `chmodSync` resolve every name of a path, and a user who owns a
 * folder on that path can swap a name for a symbolic link between two calls — root would then make,
 * chown or chmod whatever the link points at (`/etc`, `/root/.ssh`). So a path is walked from `/`
 * one name at a time, each folder held open (`O_DIRECTORY | O_NOFOLLOW`) and the next name resolved
 * inside it through `/proc/self/fd/<fd>/<name>` (the kernel reads that as "in this very folder",
 * whatever was renamed above it since). A link is followed only where it sits in a folder of root's
 * alone (owned by root, writable by nobody else: `/var/run`, `/lib`); anywhere else it is refused.
 * Owner and mode are changed on an open descriptor (`fchown`, `fchmod`), never by name, and only of
 * a folder this process just made. Linux only (`/proc`): elsewhere the names are checked with `lstat`.
 *
 * @example
 * const project = openFolder("/var/lib/vilano/workspaces/p");   // a foreign link on the way: refused
 * try {
 *   const runs = makeFolderIn(project, "runs", 0o700, { uid: 999, gid: 999 });
 *   closeFolder(runs.held);
 * } finally {
 *   closeFolder(project);
 * }
 */
import { closeSync, constants, existsSync, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { VilanoError } from "./errors.ts";

const FOLDER_NO_FOLLOW = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const HAS_PROC_FD = existsSync("/proc/self/fd");
/** Links followed on one walk before it is given up (the kernel's own limit is 40). */
const MAX_LINKS = 40;

/** A folder held open, and the absolute path it was reached by (for messages). */
export interface HeldFolder {
  fd: number;
  path: string;
}

/** A uid and gid to hand a folder to. */
export interface FolderOwner {
  uid: number;
  gid: number;
}

export const closeFolder = (folder: HeldFolder): void => closeSync(folder.fd);

/** The path that names `name` inside the folder held open (its plain path where there is no `/proc`). */
export function pathIn(folder: HeldFolder, name: string): string {
  return HAS_PROC_FD ? `/proc/self/fd/${folder.fd}/${name}` : join(folder.path, name);
}

/** What `name` in `folder` is when it cannot be opened as a folder: a link (with its target), a file. */
function whatIsAt(folder: HeldFolder, name: string): { link: string | null; what: string } {
  try {
    const stat = lstatSync(pathIn(folder, name));
    if (stat.isSymbolicLink()) return { link: readlinkSync(pathIn(folder, name)), what: "a symbolic link" };
    return { link: null, what: stat.isDirectory() ? "a folder" : "not a folder" };
  } catch {
    return { link: null, what: "gone" };
  }
}

/** A link found where a folder was wanted (`target` is what it points at). */
export class FolderLinkError extends VilanoError {
  constructor(
    readonly path: string,
    readonly target: string,
  ) {
    super("validation_failed", `${path} is a symbolic link (to ${target}), not a folder: it is not followed`, { details: { path, target } });
  }
}

/**
 * Opens the folder `name` inside `folder` without following a link; null when there is nothing
 * there. A link there is a `FolderLinkError`, a file a `validation_failed` naming it.
 */
export function openChildFolder(folder: HeldFolder, name: string): HeldFolder | null {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new VilanoError("internal", `${JSON.stringify(name)} is not one folder name (inside ${folder.path})`);
  }
  const path = join(folder.path, name);
  try {
    if (!HAS_PROC_FD && lstatSync(path).isSymbolicLink()) throw Object.assign(new Error("a link"), { code: "ELOOP" });
    return { fd: openSync(pathIn(folder, name), FOLDER_NO_FOLLOW), path };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "ENOENT") return null;
    if (code !== "ELOOP" && code !== "ENOTDIR") throw error;
    const found = whatIsAt(folder, name);
    if (found.link !== null) throw new FolderLinkError(path, found.link);
    if (found.what === "gone") return null;
    throw new VilanoError("validation_failed", `${path} is ${found.what}, where a folder was expected`, { details: { path } });
  }
}

/** Owned by root and writable by nobody else: only root could have put a link there. */
const isRootsAlone = (stat: Stats): boolean => stat.uid === 0 && (stat.mode & 0o022) === 0;

/**
 * Opens the folder at the absolute `path`, walking from `/` (see the header); with `make`, missing
 * folders are made on the way (mode `make.mode`) and, with `make.owner`, handed to that owner.
 * A link in a folder not root's alone is a `FolderLinkError`.
 */
export function openFolder(path: string, make?: { mode: number; owner?: (lastFound: Stats) => FolderOwner | undefined }): HeldFolder {
  if (!isAbsolute(path)) throw new VilanoError("internal", `${path} is not an absolute path`);
  let names = path.split("/").filter((part) => part !== "" && part !== ".");
  let held: HeldFolder = { fd: openSync("/", FOLDER_NO_FOLLOW), path: "/" };
  let links = 0;
  let owner: FolderOwner | undefined;
  let owned = false;
  try {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      if (name === "..") throw new VilanoError("internal", `${path} holds "..": a folder is opened by its plain path`);
      let next: HeldFolder | null;
      try {
        next = openChildFolder(held, name);
      } catch (error) {
        if (!(error instanceof FolderLinkError) || !isRootsAlone(fstatSync(held.fd)) || ++links > MAX_LINKS) throw error;
        // Root's own link (`/var/run` → `/run`): walk again from the top along what it points at.
        names = [...resolve(held.path, error.target).split("/").filter((part) => part !== ""), ...names.slice(i + 1)];
        closeFolder(held);
        held = { fd: openSync("/", FOLDER_NO_FOLLOW), path: "/" };
        i = -1;
        continue;
      }
      if (next === null) {
        if (!make) throw Object.assign(new Error(`ENOENT: no such folder, open '${join(held.path, name)}'`), { code: "ENOENT", path: join(held.path, name) });
        if (!owned) [owner, owned] = [make.owner?.(fstatSync(held.fd)), true];
        next = makeFolderIn(held, name, make.mode, owner).held;
      }
      closeFolder(held);
      held = next;
    }
    return held;
  } catch (error) {
    closeFolder(held);
    throw error;
  }
}

/**
 * Makes the folder `name` in `folder` (mode `mode`; handed to `owner` when given) and returns it
 * held open, `made` true; one that is there already is returned untouched, `made` false.
 */
export function makeFolderIn(folder: HeldFolder, name: string, mode: number, owner?: FolderOwner): { held: HeldFolder; made: boolean } {
  const there = openChildFolder(folder, name);
  if (there) return { held: there, made: false };
  try {
    mkdirSync(pathIn(folder, name), { mode });
  } catch (error) {
    // Made meanwhile by someone else (a worker of the same project): taken as it is.
    if ((error as { code?: string }).code !== "EEXIST") throw error;
    const raced = openChildFolder(folder, name);
    if (raced) return { held: raced, made: false };
    throw error;
  }
  const held = openChildFolder(folder, name);
  if (!held) throw new VilanoError("validation_failed", `${join(folder.path, name)} went away as soon as it was made`, { details: { path: join(folder.path, name) } });
  try {
    if (owner) handOver(held, owner, mode);
    return { held, made: true };
  } catch (error) {
    closeFolder(held);
    throw error;
  }
}

/**
 * Whether this root process may hand the held folder over: root's own and empty — one it just made
 * (a folder swapped in by someone else, or one with anything in it, is not).
 */
export function isFreshFolder(held: HeldFolder): boolean {
  if (process.getuid?.() !== 0) return true;
  return fstatSync(held.fd).uid === 0 && readdirSync(pathIn(held, ".")).length === 0;
}

/** Gives the held folder to `owner` with `mode`, through its descriptor; refused unless `isFreshFolder`. */
export function handOver(held: HeldFolder, owner: FolderOwner, mode: number): void {
  if (!isFreshFolder(held)) {
    throw new VilanoError("validation_failed", `${held.path} is not a folder this daemon just made (another owner, or not empty): it is not handed to uid ${owner.uid}`, {
      details: { path: held.path },
    });
  }
  setOwner(held, owner, mode);
}

/** fchown and fchmod of a folder held open: for one whose parent only root can write into. */
export function setOwner(held: HeldFolder, owner: FolderOwner, mode: number): void {
  fchownSync(held.fd, owner.uid, owner.gid);
  fchmodSync(held.fd, mode);
}
