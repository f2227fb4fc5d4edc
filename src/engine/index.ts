/** The replay engine: runs user code against history; never touches SQLite. */
export { runWorkflowActivation, type ActivationInput } from "./run-workflow.ts";
export type { ActivationHost } from "./host.ts";
export { isSuspension } from "./suspension.ts";
