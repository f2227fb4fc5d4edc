/** The replay engine: runs user code against history; never touches SQLite. */
export { runWorkflowActivation, type ActivationInput } from "./run-workflow.ts";
export { runServiceTurn, type TurnActivationInput } from "./run-service-turn.ts";
export { createRef, computeKey, refShapeOf, type RefCall, type RefShape, type RefTransport } from "./service-ref.ts";
export type { ActivationHost, TimedStep } from "./host.ts";
export { isSuspension } from "./suspension.ts";
