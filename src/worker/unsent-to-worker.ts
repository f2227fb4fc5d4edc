/**
 * What a message the daemon could not send to a worker becomes (too large for the IPC serialiser:
 * an activation with a long history, say). The batch it was in goes again one message at a time
 * (batching.ts), so only this one is lost; this says what losing it costs, instead of a run that
 * waits for it forever.
 */
import { toFailureBody, VilanoError, type ActivationResult } from "../shared/index.ts";
import { sendFailure } from "./outgoing-values.ts";
import type { ToWorker } from "./protocol.ts";

export type UnsentToWorker =
  /** An activation that cannot reach a worker: its run fails (a turn: its message), since its history only grows. */
  | { fail: ActivationResult; why: string }
  /** A reply that cannot go: a small refusal goes instead, so the worker's report is answered. */
  | { instead: ToWorker; why: string }
  /** Nothing waits on it for good (a live delivery, an abort, a request that times out): only said. */
  | { why: string };

export function unsentToWorker(message: ToWorker, error: unknown): UnsentToWorker {
  const reason = sendFailure(error);
  switch (message.t) {
    case "activate": {
      // Anything but a value too large to serialise (JSC: a RangeError) is the channel failing:
      // the worker is going, and its exit gives the run back.
      if (!(error instanceof RangeError)) return { why: `an activation of run ${message.run.id} could not be sent to a worker (it goes again when the worker is gone): ${reason}` };
      const why = `its activation (history of ${message.ops.length} ops) could not be sent to a worker: ${reason}`;
      const body = { ...toFailureBody(new VilanoError("value_too_large", `run ${message.run.id}: ${why}`)), retryable: false };
      return { fail: message.turn ? { type: "rejected", error: body } : { type: "failed", error: body }, why };
    }
    case "reply":
      if (!message.ok) return { why: `a refusal of report ${message.c} could not be sent to its worker: ${reason}` };
      return {
        instead: { t: "reply", a: message.a, c: message.c, ok: false, code: "value_too_large", message: `the daemon's answer to this report could not be sent to the worker: ${reason}` },
        why: `the answer to report ${message.c} could not be sent to its worker; it is refused instead: ${reason}`,
      };
    default:
      return { why: `a "${message.t}" message could not be sent to a worker: ${reason}` };
  }
}
