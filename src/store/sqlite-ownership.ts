/**
 * One writer per SQLite file: two kernels would both dispatch the same runs and execute steps
 * twice. Within a process a registry of open files refuses a second one; across processes the
 * owner's pid is recorded in `meta` and a live owner is refused. A dead owner (crash, `kill -9`) is taken
 * over, which is what recovery after a crash needs. (A recycled pid can block a takeover until that
 * process exits; the error names the pid so a person can check.)
 */
import { isProcessAlive, VilanoError } from "../shared/index.ts";
import type { Store } from "./boundary.ts";

const openHere = new Set<string>();
const OWNER_KEY = "owner";


export async function claimOwnership(store: Omit<Store, "claimWriter" | "releaseWriter">): Promise<void> {
  if (store.path === ":memory:") return;
  if (openHere.has(store.path)) {
    throw new VilanoError("conflict", `database ${store.path} is already open in this process; close the other runtime first`);
  }
  // Marked before the first await: a second open in this process is refused even while this one claims.
  openHere.add(store.path);
  try {
    await store.transaction(async () => {
      const current = await store.getMeta(OWNER_KEY);
      const owner = current ? (JSON.parse(current) as { pid: number } | null) : null;
      if (owner && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
        throw new VilanoError("conflict", `database ${store.path} is in use by process ${owner.pid}; stop it before opening the database here`, {
          details: { pid: owner.pid },
        });
      }
      await store.setMeta(OWNER_KEY, JSON.stringify({ pid: process.pid, since: new Date().toISOString() }));
    });
  } catch (error) {
    openHere.delete(store.path);
    throw error;
  }
}

export async function releaseOwnership(store: Omit<Store, "claimWriter" | "releaseWriter">): Promise<void> {
  if (store.path === ":memory:" || !openHere.delete(store.path)) return;
  try {
    await store.transaction(async () => {
      const current = await store.getMeta(OWNER_KEY);
      if (current && (JSON.parse(current) as { pid: number }).pid === process.pid) await store.setMeta(OWNER_KEY, "null");
    });
  } catch {
    // Closing anyway: the next owner takes a dead owner's place.
  }
}
