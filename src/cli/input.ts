/**
 * Reads a JSON flag (`--input`, `--key-json`): the JSON itself, `@<file>` for a file's content, or
 * `-` for standard input — so values of any size can be passed (a command line holds ~128 KB).
 */
import { readFileSync } from "node:fs";
import { findNonJson, MAX_JSON_DEPTH, VilanoError } from "../shared/index.ts";

async function textOf(value: string, flag: string): Promise<{ text: string; from: string }> {
  if (value === "-") return { text: await Bun.stdin.text(), from: "standard input" };
  if (!value.startsWith("@")) return { text: value, from: "" };
  const path = value.slice(1);
  if (path === "") throw new VilanoError("validation_failed", `${flag} @ needs a file name, as in ${flag} @input.json`, { details: { flag } });
  try {
    return { text: readFileSync(path, "utf8"), from: `file ${path}` };
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    throw new VilanoError(code === "ENOENT" ? "not_found" : "validation_failed", `${flag} ${value}: cannot read ${path}: ${(cause as Error).message}`, {
      details: { flag, path },
    });
  }
}

export async function parseInputFlag(value: string | undefined, flag = "--input"): Promise<unknown> {
  if (value === undefined) return undefined;
  const { text, from } = await textOf(value, flag);
  const where = from ? ` (read from ${from})` : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new VilanoError("validation_failed", `${flag} is not valid JSON${where}: ${(cause as Error).message}`, { details: { flag } });
  }
  // JSON.parse takes any depth, but sending the value would overflow the stack: refuse what the
  // API would refuse (the same check, the same bound), before anything is sent.
  const bad = findNonJson(parsed);
  if (bad) {
    const at = bad.path.length > 40 ? `${bad.path.slice(0, 40)}…` : bad.path;
    const what = bad.reason.includes("nested more than") ? `is nested more than ${MAX_JSON_DEPTH} levels deep, which is not accepted` : `is not accepted: ${bad.reason}`;
    throw new VilanoError("validation_failed", `${flag}${where} ${what} (at ${at})`, { details: { flag, maxDepth: MAX_JSON_DEPTH } });
  }
  return parsed;
}
