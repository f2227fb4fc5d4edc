/**
 * @vilano/runtime/embedded — the kernel in-process, without a daemon (scripts, tests).
 */
export { createRuntime, type Runtime, type RuntimeOptions, type RunHandle, type StartOptions, type ResultOptions, type RunListFilter } from "./runtime.ts";
export type { RunInspection, RunInfo, OpInfo, EventInfo, SignalInfo, MessageInfo } from "../core/index.ts";
export type { RunStatus, ServiceStatus } from "../shared/index.ts";
export type { LiveExecutionStats } from "../shared/index.ts";
export type { SignalDelivery } from "../core/index.ts";
