/** The runtime core shared by the embedded runtime and the daemon: scheduler, runners, catalog, views. */
export { createRuntimeCore, CLOSE_GRACE_MS, type RuntimeCore, type RuntimeCoreOptions, type StartRequest, type ConnectRequest } from "./runtime-core.ts";
export { createScheduler, type Scheduler } from "./scheduler.ts";
export type { Runner } from "./runner.ts";
export { createInProcessRunner } from "./in-process-runner.ts";
export { describeDefinitions, fixedCatalog, hasCode, serviceInfo, type Catalog, type CodeInfo, type CodeRef, type ServiceInfo } from "./catalog.ts";
export { indexDefinitions, requireService, type Definitions } from "./definitions.ts";
export { createExternalRef } from "./external-ref.ts";
export { listDaemons, readRunHistory, toEventInfo, toInspection, toRunInfo } from "./inspection.ts";
export type { RunHistory, RunInspection, RunInfo, OpInfo, EventInfo, SignalInfo, MessageInfo } from "./inspection.ts";
export { createCaptureSink, type CaptureSink, type LiveOutput } from "./captures.ts";
export { runActivationCode, type ActivationCode } from "./run-activation.ts";
export {
  codeWorkspace,
  embeddedWorkspacesName,
  ensureWorkspacesBase,
  fixedWorkspace,
  lazyWorkspace,
  makeWorkspaceFolder,
  prepareWorkspace,
  pruneEmptyWorkspaces,
  sweepLeftoverWorkspaces,
  removeWorkspace,
  type CodeWorkspace,
  type WorkspaceSettings,
} from "./workspaces.ts";
// What the embedded runtime needs from the layers below the core, so that it depends on the core alone.
export { computeKey } from "../engine/index.ts";
export type { DurabilityStats, GroupCommitStats, SignalDelivery } from "../kernel/index.ts";
export type { SynchronousMode } from "../store/index.ts";
