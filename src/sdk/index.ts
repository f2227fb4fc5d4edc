/**
 * @vilano/runtime — the authoring SDK. User code imports only this module: it defines workflows
 * and services as plain objects and never touches SQLite, HTTP or processes.
 */
export { workflow, isWorkflowDefinition } from "./workflow.ts";
export type { WorkflowDefinition, AnyWorkflowDefinition, WorkflowOptions, WorkflowInput, WorkflowOutput } from "./workflow.ts";
export { nonRetryable } from "./non-retryable.ts";
export { service, isServiceDefinition } from "./service.ts";
export type {
  ServiceDefinition,
  ServiceOptions,
  AnyServiceDefinition,
  HandlerResult,
  SendHandler,
  AskHandler,
  MailboxOptions,
  ServiceRef,
  ServiceStatus,
  AskOptions,
  SendOptions,
  SendMembers,
  AskMembers,
  ConnectOptions,
  ServiceKeyInput,
} from "./service.ts";
export type {
  DurableContext,
  WorkflowContext,
  ServiceContext,
  MailboxSnapshot,
  DeferOptions,
  RejectOptions,
  StepControl,
  StepOptions,
  SleepOptions,
  WaitForSignalOptions,
  LogFields,
  ExecSpec,
  ExecResult,
  ExecArtifact,
  SpawnOptions,
  ChildHandle,
  RelationTarget,
  MonitorOptions,
  LinkOptions,
  NextExitOptions,
  SuperviseOptions,
  SupervisionGroup,
  SupervisedHandle,
  SupervisedMember,
  PublishOptions,
  PublishResult,
  SubscribeOptions,
  Subscription,
  Unsubscription,
  Published,
} from "./context.ts";
export type { ExitEvent } from "../shared/views.ts";
export {
  VilanoError,
  NonRetryableError,
  DurableError,
  StepFailedError,
  ExecFailedError,
  SignalTimeoutError,
  NondeterminismError,
  RunFailedError,
  ChildFailedError,
  ServiceCallError,
} from "../shared/errors.ts";
export type { RunStatus } from "../shared/status.ts";
export type { FailureBody, FailureFamily } from "../shared/failure.ts";
export type { Duration } from "../shared/duration.ts";
export type { RetryOptions, Backoff, Jitter, RetryFamily } from "../shared/retry-policy.ts";
