/**
 * `handle.signal(name, payload)`: a run signal to a child, recorded once (a replay does not send it
 * again). A child that already ended refuses it, and the op records that failure.
 */
import { errorCodeOf, VilanoError } from "../../shared/index.ts";
import { kernelFailure } from "../inbox.ts";
import { sendSignal } from "../signals.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const childSignalOps = defineOpKind<"child_signal">({
  kinds: [OP_KIND.child_signal],
  record: {
    child_signal(r, cmd) {
      const child = r.k.store.getRun(cmd.childRunId);
      const fail = (code: string, message: string) => {
        const error = kernelFailure(code, message, { childRunId: cmd.childRunId, signal: cmd.name });
        r.put(OP_KIND.child_signal, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed" as const, error };
      };
      if (!child || child.parentId !== r.runId) return fail("not_found", `run ${cmd.childRunId} is not a child of ${r.runId}`);
      let delivery;
      try {
        delivery = sendSignal(r.k, r.tx, child.id, cmd.name, cmd.payload);
      } catch (error) {
        if (errorCodeOf(error) === "run_finished") return fail("run_finished", (error as VilanoError).message);
        throw error;
      }
      const value = JSON.stringify({ signalId: delivery.signalId, status: delivery.status });
      r.put(OP_KIND.child_signal, OP_STATUS.completed, { result: value });
      r.event("child_signalled", { opKey: cmd.opKey, childRunId: child.id, name: cmd.name, signalId: delivery.signalId });
      return { outcome: "value", value };
    },
  },
});
