/**
 * Walks a project's files for hashing and scanning. Symbolic links are followed, but one that loops,
 * points nowhere or leads back into a folder being walked is a clear error naming it (a 400), never
 * a crash or an endless walk.
 */
import { readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { VilanoError } from "../shared/index.ts";

/** Yields the files under `root` in a stable order; `skip(entry, dir)` leaves an entry out. */
export function* projectFiles(root: string, skip: (entry: string, dir: string) => boolean): Generator<string> {
  const walking = new Set<string>();
  const bad = (path: string, why: string) =>
    new VilanoError("validation_failed", `project file ${relative(root, path)} (in ${root}) ${why}; remove it or point it elsewhere`, {
      details: { path },
    });
  function* walk(dir: string): Generator<string> {
    const real = realpathSync(dir);
    if (walking.has(real)) throw bad(dir, "is a symbolic link that leads back into a folder that contains it");
    walking.add(real);
    for (const entry of readdirSync(dir).sort()) {
      if (skip(entry, dir)) continue;
      const path = join(dir, entry);
      let stat;
      try {
        stat = statSync(path);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === "ELOOP") throw bad(path, "is a symbolic link that loops");
        if (code === "ENOENT") throw bad(path, "is a symbolic link that points nowhere");
        throw error;
      }
      if (stat.isDirectory()) yield* walk(path);
      else if (stat.isFile()) yield path;
    }
    walking.delete(real);
  }
  yield* walk(root);
}
