/** The replay engine: runs user code against history; never touches SQLite. */
export { runWorkflowActivation, type ActivationInput, type WorkflowLiveExecutions, type WorkflowResume } from "./run-workflow.ts";
export { createLiveExecutions, DEFAULT_LIVE_EXECUTIONS, type LiveExecutionStats } from "./live-executions.ts";
export { runServiceTurn, type TurnActivationInput } from "./run-service-turn.ts";
export { createRef, computeKey, refShapeOf, type RefCall, type RefInstance, type RefShape, type RefTransport } from "./service-ref.ts";
export type { ActivationHost, StartedStep, ExecOutputChunk, ExecArtifactFile } from "./host.ts";
export { type ExecEnvironment, DEFAULT_MAX_CAPTURE_BYTES, truncationMark } from "./exec-process.ts";
export { captureDir } from "./exec-op.ts";
export { isSuspension } from "./suspension.ts";
export { currentStepOpKey } from "./step-scope.ts";
export { checkOptions } from "./options.ts";
