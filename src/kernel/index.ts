/** The kernel: durable state machine over the store, with group commit. */
export { createKernel } from "./kernel.ts";
export type { Kernel, KernelOptions } from "./kernel-api.ts";
export type { Executor } from "./executor.ts";
export * from "./types.ts";
export type { SignalDelivery } from "./signals.ts";
export type { DurabilityStats, GroupCommitStats } from "./group-commit.ts";
export type { ChangeListener } from "./change-feed.ts";
export { instanceId, type EnqueueResult, type ConnectRequest } from "./inbox.ts";
export { turnScope } from "./turns.ts";
export { MAX_WORKER_CRASHES, type WorkerCrash } from "./lost-activations.ts";
export { explainOp } from "./ops/index.ts";
export { toExitEvent } from "./relationships.ts";
export { checkCommandValues, checkValueSize, refuseOverCap, resultWithinLimit, withBoundedFailure } from "../shared/index.ts";
