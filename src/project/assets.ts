/**
 * Files the executable carries besides code: the SDK's type declarations and the starter project,
 * each a JSON bundle `{ path: content }` built by scripts/build-assets.ts. The compiled executable
 * embeds them; running from source reads them from dist/ and starters/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { VilanoError } from "../shared/index.ts";

export type FileBundle = Record<string, string>;

const REPO = join(import.meta.dir, "..", "..");

async function embedded(prefix: string): Promise<FileBundle | null> {
  const file = Bun.embeddedFiles.find((blob) => (blob as Blob & { name?: string }).name?.startsWith(prefix));
  return file ? ((await file.json()) as FileBundle) : null;
}

function readTree(dir: string, base = dir, out: FileBundle = {}): FileBundle {
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) readTree(path, base, out);
    else out[relative(base, path).split(sep).join("/")] = readFileSync(path, "utf8");
  }
  return out;
}

export async function sdkTypes(): Promise<FileBundle> {
  const inside = await embedded("sdk-types");
  if (inside) return inside;
  const built = join(REPO, "dist", "sdk-types.bundle");
  if (!existsSync(built)) throw new VilanoError("internal", "the SDK type declarations are not built; run `bun run build`");
  return JSON.parse(readFileSync(built, "utf8")) as FileBundle;
}

export async function starterFiles(): Promise<FileBundle> {
  return (await embedded("starter-agent")) ?? readTree(join(REPO, "starters", "agent"));
}
