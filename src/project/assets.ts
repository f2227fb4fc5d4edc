/**
 * Files the executable carries besides code: the SDK's type declarations and the starter project,
 * each a JSON bundle `{ path: content }` built by scripts/build-assets.ts. The compiled executable
 * embeds them; running from source reads them from dist/ and starters/.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, sep } from "node:path";
import { VilanoError } from "../shared/index.ts";

export type FileBundle = Record<string, string>;

const REPO = join(import.meta.dir, "..", "..");

async function embedded(prefix: string): Promise<FileBundle | null> {
  const file = Bun.embeddedFiles.find((blob) => (blob as Blob & { name?: string }).name?.startsWith(prefix));
  return file ? ((await file.json()) as FileBundle) : null;
}

/** Every file under `dir` (dot files included), by its path relative to `dir`, in a stable order. */
export function readFileTree(dir: string): FileBundle {
  const paths = [...new Bun.Glob("**/*").scanSync({ cwd: dir, dot: true, onlyFiles: true })].sort();
  return Object.fromEntries(paths.map((path) => [path.split(sep).join("/"), readFileSync(join(dir, path), "utf8")]));
}

export async function sdkTypes(): Promise<FileBundle> {
  const inside = await embedded("sdk-types");
  if (inside) return inside;
  const built = join(REPO, "dist", "sdk-types.bundle");
  if (!existsSync(built)) throw new VilanoError("internal", "the SDK type declarations are not built; run `bun run build`");
  return JSON.parse(readFileSync(built, "utf8")) as FileBundle;
}

export async function starterFiles(): Promise<FileBundle> {
  return (await embedded("starter-agent")) ?? readFileTree(join(REPO, "starters", "agent"));
}
