/**
 * What a run is — a workflow run or a service instance — and what a service's inbox holds. Closed
 * sets, so a row or a view cannot carry a kind the runtime does not know; `isService` is the one
 * place that tells an instance from a workflow run.
 */

export const RUN_KIND = {
  /** A workflow run: code from the top to an output or an error. */
  workflow: "workflow",
  /** A service instance (`svc:<service>:<key>`): a durable state and an inbox served turn by turn. */
  service: "service",
} as const;
export type RunKind = (typeof RUN_KIND)[keyof typeof RUN_KIND];

/** True for a service instance (a run row, a view of one, or anything that carries a run's kind). */
export const isService = (run: { kind: string }): boolean => run.kind === RUN_KIND.service;

/** What a message in a service's inbox asks for. */
export const MESSAGE_KIND = {
  /** Fire and forget: the turn's reply is dropped. */
  send: "send",
  /** The sender waits for the turn's reply. */
  ask: "ask",
  /** Served by an onSignal handler (a `signal` send or a published topic). */
  signal: "signal",
} as const;
export type MessageKind = (typeof MESSAGE_KIND)[keyof typeof MESSAGE_KIND];
