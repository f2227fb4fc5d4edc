/**
 * The daemon's catalog: each run's code is the project snapshot it is pinned to. What a snapshot
 * defines is learnt once, by importing it in a worker process of its own (with a time limit), and
 * kept in memory; its `vilano.toml` says how its workers start. A snapshot that cannot be described
 * leaves its runs pending, with the reason logged.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Catalog, CodeInfo, CodeRef } from "../core/index.ts";
import { readProjectConfig, type ProjectConfig } from "../project/index.ts";
import { describeCode, workerEnvironment } from "../worker/index.ts";
import type { Logger } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";

export interface SnapshotCatalog extends Catalog {
  /** What a snapshot defines, importing it in a worker the first time. */
  ensure(project: string, snapshotId: string): Promise<CodeInfo>;
  codeOf(project: string, snapshotId: string): CodeRef;
  /** The snapshot's `vilano.toml` (defaults when it has none). */
  config(code: CodeRef): ProjectConfig;
  /** The environment a worker for this code starts with. */
  environment(code: CodeRef): Record<string, string>;
}

export interface SnapshotCatalogOptions {
  snapshotsDir: string;
  /** Where a worker that imports this code starts (its project's shared folder). */
  workingDir(code: CodeRef): string;
  /** The daemon's own environment: workers get a clean part of it. */
  daemonEnv: Readonly<Record<string, string>>;
  importTimeoutMs: number;
  logger: Logger;
  /**
   * A snapshot is being described: its runs will need a worker. Starting one now (it imports
   * nothing until it gets work) takes the process start off the first run's time.
   */
  onDescribing?(code: CodeRef): void;
  /**
   * Where a snapshot this daemon's home does not have lives on this machine, if anywhere: with
   * several daemons on one database, a project added through one is run by all of them.
   */
  locate?(project: string, snapshotId: string): Promise<string | null>;
}

export function createSnapshotCatalog(options: SnapshotCatalogOptions): SnapshotCatalog {
  const { logger } = options;
  const described = new Map<string, CodeInfo>();
  const describing = new Map<string, Promise<CodeInfo>>();
  const configs = new Map<string, ProjectConfig>();
  /** Snapshots found outside this daemon's home (`locate`). */
  const elsewhere = new Map<string, string>();
  const codeOf = (project: string, snapshotId: string): CodeRef => {
    const id = `${project}@${snapshotId}`;
    return { id, dir: elsewhere.get(id) ?? join(options.snapshotsDir, project, snapshotId) };
  };
  async function locateIfMissing(project: string, snapshotId: string): Promise<void> {
    const code = codeOf(project, snapshotId);
    if (!options.locate || existsSync(code.dir)) return;
    const dir = await options.locate(project, snapshotId);
    if (dir !== null && existsSync(dir)) elsewhere.set(code.id, dir);
  }

  const config = (code: CodeRef) => {
    let found = configs.get(code.id);
    if (!found) configs.set(code.id, (found = readProjectConfig(code.dir)));
    return found;
  };
  const environment = (code: CodeRef) => workerEnvironment(options.daemonEnv, config(code));

  function ensure(project: string, snapshotId: string): Promise<CodeInfo> {
    const code = codeOf(project, snapshotId);
    const ready = described.get(code.id);
    if (ready) return Promise.resolve(ready);
    let pending = describing.get(code.id);
    if (!pending) {
      pending = locateIfMissing(project, snapshotId)
        .then(() => {
          const located = codeOf(project, snapshotId);
          options.onDescribing?.(located);
          return describeCode({ code: located, env: environment(located), cwd: options.workingDir(located), logger, timeLimitMs: options.importTimeoutMs });
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
