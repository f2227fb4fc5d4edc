/**
 * The catalog: what code a run can have, as plain data. The scheduler asks it (synchronously) whether
 * a run's workflow or service is known before leasing it; refs take handler names and mailbox limits
 * from it. It never holds user functions, so a daemon whose user code lives in worker processes can
 * keep one without importing a project.
 */
import { isService } from "../shared/index.ts";
import type { AnyServiceDefinition, WorkflowDefinition } from "../sdk/index.ts";
import type { RefShape } from "../engine/index.ts";
import { refShapeOf } from "../engine/index.ts";
import type { RunRow } from "../store/index.ts";

/** What the runtime knows of one service without its code. */
export interface ServiceInfo extends RefShape {
  /** The bounded mailbox's limit, or null when unbounded. */
  maxQueued: number | null;
}

/** The definitions of one body of code (a project snapshot, or an embedded runtime's set). */
export interface CodeInfo {
  workflows: readonly string[];
  services: readonly ServiceInfo[];
}

/** Where a body of code lives, for runners that import it themselves (workers). */
export interface CodeRef {
  /** Stable id of the code: `<project>@<snapshot>`, or "embedded". */
  id: string;
  /** The folder holding `vilano.manifest.json` and the sources. */
  dir: string;
}

export interface Catalog {
  /** The code of this run if it is known now; must not do I/O. */
  current(run: RunRow): CodeInfo | null;
  /** Where this run's code lives (null for code handed over in-process). */
  codeRef(run: RunRow): CodeRef | null;
  /** Makes the run's code known; false when it cannot be had (the reason is logged). */
  load?(run: RunRow): Promise<boolean>;
}

export function describeDefinitions(workflows: readonly WorkflowDefinition[], services: readonly AnyServiceDefinition[]): CodeInfo {
  return {
    workflows: workflows.map((w) => w.name),
    services: services.map((s) => ({ ...refShapeOf(s), maxQueued: s.mailbox?.maxQueued ?? null })),
  };
}

export function hasCode(code: CodeInfo | null, run: RunRow): boolean {
  if (code === null) return false;
  return isService(run) ? code.services.some((s) => s.name === run.name) : code.workflows.includes(run.name);
}

export function serviceInfo(code: CodeInfo, name: string): ServiceInfo | undefined {
  return code.services.find((s) => s.name === name);
}

/** A catalog of one fixed body of code (an embedded runtime). */
export function fixedCatalog(code: CodeInfo, ref: CodeRef | null = null): Catalog {
  return { current: () => code, codeRef: () => ref };
}
