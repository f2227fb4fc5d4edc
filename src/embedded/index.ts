/**
 * @vilano/runtime/embedded — the kernel in-process, without a daemon (scripts, tests).
 */
export { createRuntime, type Runtime, type RuntimeOptions, type RunHandle, type StartOptions, type ResultOptions } from "./runtime.ts";
export type { RunInspection, RunInfo, OpInfo, EventInfo, SignalInfo, MessageInfo } from "./inspection.ts";
export type { RunStatus, SignalDelivery } from "../kernel/index.ts";
