/**
 * The daemon's catalog: each run's code is the project snapshot it is pinned to. What a snapshot
 * defines is learnt once, by importing it in a worker of that code (with a time limit; the worker
 * then stays for its first activation), and kept in memory; its `vilano.toml` says how its workers
 * start. A snapshot that cannot be described leaves its runs pending, with the reason logged.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Catalog, CodeInfo, CodeRef } from "../core/index.ts";
import { readProjectConfig, type ProjectConfig } from "../project/index.ts";
import { resolveWorkerUser, workerEnvironment, type WorkerUser } from "../worker/index.ts";
import { VilanoError, type Logger } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";

export interface SnapshotCatalog extends Catalog {
  /** What a snapshot defines, importing it in a worker the first time. */
  ensure(project: string, snapshotId: string): Promise<CodeInfo>;
  codeOf(project: string, snapshotId: string): CodeRef;
  /** The snapshot's `vilano.toml` (defaults when it has none). */
  config(code: CodeRef): ProjectConfig;
  /** The environment a worker for this code starts with. */
  environment(code: CodeRef): Record<string, string>;
  /** The OS user this code's workers run as (`[worker] user`, checked when the code was described); undefined: the daemon's. */
  user(code: CodeRef): { uid: number; gid: number } | undefined;
}

export interface SnapshotCatalogOptions {
  snapshotsDir: string;
  /**
   * Imports the code in a worker (never in the daemon) within `timeLimitMs` and says what it defines;
   * the code's user is checked and its places made before this is asked.
   */
  describe(code: CodeRef, timeLimitMs: number): Promise<CodeInfo>;
  /** The daemon's own environment: workers get a clean part of it. */
  daemonEnv: Readonly<Record<string, string>>;
  importTimeoutMs: number;
  logger: Logger;
  /**
   * Where a snapshot this daemon's home does not have lives on this machine, if anywhere: with
   * several daemons on one database, a project added through one is run by all of them.
   */
  locate?(project: string, snapshotId: string): Promise<string | null>;
  /**
   * For code whose workers run as another user: makes that user's folders and a copy of the snapshot
   * (at `snapshotDir`, in the home it cannot read) it can import, and says where the copy is.
   */
  placesForUser(project: string, snapshotId: string, snapshotDir: string, user: WorkerUser): string;
}

export function createSnapshotCatalog(options: SnapshotCatalogOptions): SnapshotCatalog {
  const { logger } = options;
  const described = new Map<string, CodeInfo>();
  const describing = new Map<string, Promise<CodeInfo>>();
  const configs = new Map<string, ProjectConfig>();
  /** Snapshots found outside this daemon's home (`locate`). */
  const elsewhere = new Map<string, string>();
  /** Code run as another user: the user, and the copy of the snapshot its workers import. */
  const asUser = new Map<string, { user: WorkerUser; dir: string }>();
  const snapshotDir = (id: string, project: string, snapshotId: string) => elsewhere.get(id) ?? join(options.snapshotsDir, project, snapshotId);
  const codeOf = (project: string, snapshotId: string): CodeRef => {
    const id = `${project}@${snapshotId}`;
    return { id, dir: asUser.get(id)?.dir ?? snapshotDir(id, project, snapshotId) };
  };
  async function locateIfMissing(project: string, snapshotId: string): Promise<void> {
    const code = codeOf(project, snapshotId);
    if (!options.locate || existsSync(code.dir)) return;
    const dir = await options.locate(project, snapshotId);
    if (dir !== null && existsSync(dir)) elsewhere.set(code.id, dir);
  }

  const config = (code: CodeRef) => {
    let found = configs.get(code.id);
    if (found) return found;
    found = readProjectConfig(code.dir);
    // A snapshot not there yet (one to locate) reads as the defaults: not kept, it is read again once found.
    if (existsSync(code.dir)) configs.set(code.id, found);
    return found;
  };
  const environment = (code: CodeRef) => {
    const env = workerEnvironment(options.daemonEnv, config(code));
    const other = asUser.get(code.id)?.user;
    // Its own home and name, as a login would give it (the daemon's HOME is root's, out of its reach).
    return other ? { ...env, HOME: other.home, USER: other.name, LOGNAME: other.name } : env;
  };
  const user = (code: CodeRef) => {
    if (config(code).user === null) return undefined;
    const found = asUser.get(code.id);
    // Never the daemon's user by default: code that asked for another one is not run before it was checked.
    if (!found) throw new VilanoError("internal", `${code.id} runs as [worker] user = ${JSON.stringify(config(code).user)}, which was not checked yet`);
    // Asked as each worker starts: its folders are made again if something (a temp cleaner) removed them.
    const [project, snapshotId] = [code.id.slice(0, code.id.indexOf("@")), code.id.slice(code.id.indexOf("@") + 1)];
    options.placesForUser(project, snapshotId, snapshotDir(code.id, project, snapshotId), found.user);
    return { uid: found.user.uid, gid: found.user.gid };
  };
  /** Checks the code's `[worker] user` and makes its places, before any of its code runs. */
  const checkUser = (project: string, snapshotId: string) => {
    const code = codeOf(project, snapshotId);
    const name = config(code).user;
    if (name === null || asUser.has(code.id)) return;
    const other = resolveWorkerUser(name, `project ${project}'s vilano.toml`);
    asUser.set(code.id, { user: other, dir: options.placesForUser(project, snapshotId, snapshotDir(code.id, project, snapshotId), other) });
  };

  function ensure(project: string, snapshotId: string): Promise<CodeInfo> {
    const code = codeOf(project, snapshotId);
    const ready = described.get(code.id);
    if (ready) return Promise.resolve(ready);
    let pending = describing.get(code.id);
    if (!pending) {
      pending = locateIfMissing(project, snapshotId)
        .then(() => {
          checkUser(project, snapshotId);
          return options.describe(codeOf(project, snapshotId), options.importTimeoutMs);
        })
        .then((info) => {
          described.set(code.id, info);
          return info;
        })
        .finally(() => describing.delete(code.id));
      describing.set(code.id, pending);
    }
    return pending;
  }

  return {
    ensure,
    codeOf,
    config,
    environment,
    user,
    current: (run: RunRow) => (run.snapshotId === null ? null : (described.get(codeOf(run.project, run.snapshotId).id) ?? null)),
    codeRef: (run: RunRow) => (run.snapshotId === null ? null : codeOf(run.project, run.snapshotId)),
    async load(run: RunRow) {
      if (run.snapshotId === null) {
        logger.warn(`run ${run.id} has no project snapshot; it stays pending`);
        return false;
      }
      try {
        await ensure(run.project, run.snapshotId);
        return true;
      } catch (error) {
        logger.error(`run ${run.id}: project ${run.project} snapshot ${run.snapshotId} could not be loaded; it stays pending:`, error);
        return false;
      }
    },
  };
}
