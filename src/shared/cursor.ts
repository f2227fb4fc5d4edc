/**
 * Page cursors for run lists: where the last page ended, as `(created_at, id)` — the list's order —
 * in an opaque string, so the next page starts right after it however many runs arrive meanwhile.
 */
import { VilanoError } from "./errors.ts";

export interface RunCursor {
  createdAt: number;
  id: string;
}

export function encodeRunCursor(cursor: RunCursor): string {
  return `${cursor.createdAt}.${Buffer.from(cursor.id, "utf8").toString("base64url")}`;
}

export function decodeRunCursor(text: string): RunCursor {
  const match = /^(\d{1,16})\.([A-Za-z0-9_-]+)$/.exec(text);
  const id = match ? Buffer.from(match[2]!, "base64url").toString("utf8") : "";
  if (!match || id === "" || encodeRunCursor({ createdAt: Number(match[1]), id }) !== text) {
    throw new VilanoError("validation_failed", `invalid cursor ${JSON.stringify(text)}: pass the nextCursor of a previous page`);
  }
  return { createdAt: Number(match[1]), id };
}

/**
 * A page of at most `limit` runs, from runs read with a limit of `limit + 1`: the one past the page
 * is never shown, it only says that more follow, so a page that is exactly full offers no next page.
 */
export function runPage<R extends RunCursor>(runs: R[], limit: number): { runs: R[]; nextCursor?: string } {
  if (runs.length <= limit) return { runs };
  const page = runs.slice(0, limit);
  return { runs: page, nextCursor: encodeRunCursor(page.at(-1)!) };
}
