/**
 * The one table of error codes: each code says what went wrong, which HTTP status the control API
 * answers with and which exit code the CLI ends with. Every VilanoError carries one of these codes.
 */
export const ERROR_CODES = {
  /** Input that fails validation: a bad duration, malformed JSON, a missing field. */
  validation_failed: { http: 400, exit: 2, summary: "the input is invalid" },
  /** A value that must cross a durable boundary is not plain JSON. */
  not_serializable: { http: 400, exit: 2, summary: "the value is not JSON-serialisable" },
  /** A run, op or definition that does not exist. */
  not_found: { http: 404, exit: 3, summary: "not found" },
  /** A workflow name that no registered definition has. */
  unknown_workflow: { http: 404, exit: 3, summary: "no such workflow is registered" },
  /** A service name that no registered definition has. */
  unknown_service: { http: 404, exit: 3, summary: "no such service is registered" },
  /** A run id already used by another workflow, or a definition registered twice. */
  conflict: { http: 409, exit: 4, summary: "conflicts with existing state" },
  /** A signal or cancel sent to a run that has already finished. */
  run_finished: { http: 409, exit: 4, summary: "the run has already finished" },
  /** The database was written by a newer version of Vilano. */
  schema_too_new: { http: 500, exit: 5, summary: "the database schema is newer than this build" },
  /** SQLite refused an operation (I/O error, corruption, full disk). */
  storage_failed: { http: 500, exit: 5, summary: "the database failed" },
  /** The database server cannot be reached now (PostgreSQL away); the daemon reconnects on its own: try again later. */
  database_unavailable: { http: 503, exit: 5, summary: "the database cannot be reached; try again later" },
  /** The runtime was closed while a call was in flight. */
  runtime_closed: { http: 503, exit: 5, summary: "the runtime is closed" },
  /** A durable run failed; the cause holds the failure body. */
  run_failed: { http: 200, exit: 6, summary: "the run failed" },
  /** A step failed for good; the cause holds the failure body. */
  step_failed: { http: 200, exit: 6, summary: "a step failed" },
  /** A `ctx.exec` subprocess failed for good; the cause holds the failure body. */
  exec_failed: { http: 200, exit: 6, summary: "a subprocess failed" },
  /** ctx.monitor / ctx.link to a run that is not related (a child, the parent, a service of the project). */
  not_related: { http: 400, exit: 2, summary: "the runs are not related" },
  /** ctx.nextExit({ timeout }) ran past its timeout. */
  exit_timeout: { http: 200, exit: 6, summary: "no exit event arrived in time" },
  /** A child run started with ctx.spawn failed or was cancelled; `cause` is its error. */
  child_failed: { http: 200, exit: 6, summary: "a child run failed" },
  /** A signal wait ran past its timeout. */
  signal_timeout: { http: 200, exit: 6, summary: "a signal did not arrive in time" },
  /** A step ran past its timeout. */
  timeout: { http: 504, exit: 6, summary: "timed out" },
  /** Waiting for a result ran past the caller's deadline (the run itself goes on). */
  wait_timeout: { http: 408, exit: 7, summary: "the wait timed out; the run goes on" },
  /** The code asked for a different op than history recorded at the same place. */
  nondeterminism: { http: 200, exit: 6, summary: "the workflow code no longer matches its history" },
  /** The run was cancelled. */
  cancelled: { http: 200, exit: 8, summary: "the run was cancelled" },
  /** Thrown by user code and marked as never to be retried. */
  non_retryable: { http: 200, exit: 6, summary: "a non-retryable error" },
  /** An activation reported with a lease that is no longer current; its report was dropped. */
  stale_lease: { http: 409, exit: 4, summary: "the activation's lease is no longer current" },
  /** A service's bounded mailbox is full; the message was rejected (and the rejection recorded). */
  service_overloaded: { http: 429, exit: 9, summary: "the service's mailbox is full" },
  /** The service instance is stopped: its backlog failed and new mail is rejected. */
  service_stopped: { http: 409, exit: 9, summary: "the service instance is stopped" },
  /** No reply arrived within the ask's timeout. */
  ask_timeout: { http: 504, exit: 7, summary: "the ask got no reply in time" },
  /** The handler rejected the message with ctx.reject(). */
  service_turn_rejected: { http: 200, exit: 9, summary: "the service rejected the message" },
  /** A send or ask failed in the service's turn (the cause holds the failure body). */
  service_call_failed: { http: 200, exit: 9, summary: "the service call failed" },
  /** A member that exists only in service turns was called from a workflow, or the reverse. */
  wrong_context: { http: 400, exit: 2, summary: "not available in this context" },
  /** The worker process running the code died 3 times in a row; the run (or message) failed for good. */
  worker_crashed: { http: 200, exit: 6, summary: "the worker running the code kept crashing" },
  /** The daemon's pid is alive but it does not answer (busy or stopped); nothing was changed. */
  daemon_unavailable: { http: 503, exit: 11, summary: "the daemon does not answer" },
  /**
   * The daemon is serving as many requests (VILANO_MAX_CONNECTIONS) or event streams
   * (VILANO_MAX_STREAMS) as it takes; this one was refused before anything ran. Retry after the
   * `Retry-After` seconds (`details.retryAfterSeconds`).
   */
  daemon_overloaded: { http: 503, exit: 11, summary: "the daemon is at its limit of requests or streams" },
  /** A control API request without a valid token. */
  unauthorized: { http: 401, exit: 10, summary: "a valid token is required" },
  /** A control API request refused (a Host that is not a loopback name). */
  forbidden: { http: 403, exit: 10, summary: "the request is not allowed" },
  /** A request body over the configured limit. */
  payload_too_large: { http: 413, exit: 2, summary: "the request body is too large" },
  /** A value to be recorded (a step result, an output, a payload) is larger than VILANO_MAX_VALUE_BYTES. */
  value_too_large: { http: 413, exit: 2, summary: "the value is larger than the limit" },
  /** A request body that is not JSON (its Content-Type says otherwise). */
  unsupported_media_type: { http: 415, exit: 2, summary: "the request body must be JSON" },
  /** A bug: a state the runtime should never reach. */
  internal: { http: 500, exit: 70, summary: "internal error" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}
