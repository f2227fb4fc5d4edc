/**
 * @vilano/runtime/embedded — the kernel in-process, without a daemon (scripts, tests).
 */
export { createInProcessExecutor, fixedDefinitions, type DefinitionSource, type Definitions, type InProcessExecutor } from "./in-process-executor.ts";
export { indexDefinitions } from "./definitions.ts";
export { createExternalRef } from "./external-ref.ts";
export { toInspection, toRunInfo } from "./inspection.ts";
export { createRuntime, type Runtime, type RuntimeOptions, type RunHandle, type StartOptions, type ResultOptions } from "./runtime.ts";
export type { RunInspection, RunInfo, OpInfo, EventInfo, SignalInfo, MessageInfo } from "./inspection.ts";
export type { RunStatus, SignalDelivery } from "../kernel/index.ts";
