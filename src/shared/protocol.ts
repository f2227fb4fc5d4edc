/**
 * The activation protocol: plain, JSON-able data exchanged between the engine (running user code,
 * in-process or in a worker) and the kernel. JSON values travel as JSON text.
 */
import type { FailureBody } from "./failure.ts";
import type { ResolvedRetryPolicy } from "./retry-policy.ts";

/** One recorded op, as the engine reads it from history. */
export interface HistoryOp {
  opKey: string;
  seq: number;
  kind: string;
  name: string;
  status: string;
  attempt: number;
  result: string | null;
  error: string | null;
}

/** Identity of a requested op, present on every op command. */
interface OpIdentity {
  opKey: string;
  /** Position of the op in the activation's call order; used to detect reordering. */
  seq: number;
  name: string;
}

/** What an activation asks the kernel to record. */
export type OpCommand =
  | (OpIdentity & { type: "step_completed"; attempt: number; result: string | null })
  | (OpIdentity & { type: "step_failed"; attempt: number; error: FailureBody; retry: ResolvedRetryPolicy })
  | (OpIdentity & { type: "sleep"; durationMs: number })
  | (OpIdentity & { type: "wait_signal"; timeoutMs: number | null })
  | (OpIdentity & { type: "record"; kind: "log" | "now" | "random"; value: string });

/** The kernel's answer to an op command, sent only after it is committed. */
export type OpResolution =
  | { outcome: "recorded" }
  | { outcome: "failed"; error: FailureBody }
  | { outcome: "retry"; delayMs: number; wakeAt: number }
  | { outcome: "scheduled"; wakeAt: number }
  | { outcome: "signal"; payload: string | null }
  | { outcome: "waiting" };

/** How an activation ended. `aborted` means its lease was lost and it reports nothing. */
export type ActivationResult =
  | { type: "completed"; output: string | null }
  | { type: "failed"; error: FailureBody }
  | { type: "suspended" }
  | { type: "aborted" };
