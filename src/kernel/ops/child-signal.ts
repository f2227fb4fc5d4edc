/**
 * `handle.signal(name, payload)`: a run signal to a child, recorded once (a replay does not send it
 * again). A child that already ended refuses it, and the op records that failure.
 */
import { errorCodeOf, VilanoError, type FailureBody } from "../../shared/index.ts";
import { childOf } from "./child-of.ts";
import { kernelFailure } from "../inbox.ts";
import { sendSignal } from "../signals.ts";
import { OP_KIND, OP_STATUS } from "../types.ts";
import { defineOpKind } from "./op-kind.ts";

export const childSignalOps = defineOpKind<"child_signal">({
  kinds: [OP_KIND.child_signal],
  record: {
    async child_signal(r, cmd) {
      const fail = async (error: FailureBody) => {
        await r.put(OP_KIND.child_signal, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed" as const, error };
      };
      const found = await childOf(r, cmd.childRunId, cmd.workflow);
      if ("error" in found) return fail(found.error);
      const { child } = found;
      let delivery;
      try {
        delivery = await sendSignal(r.k, r.tx, child.id, cmd.name, cmd.payload);
      } catch (error) {
        if (errorCodeOf(error) === "run_finished") return fail(kernelFailure("run_finished", (error as VilanoError).message, { childRunId: child.id, signal: cmd.name }));
        throw error;
      }
      const value = JSON.stringify({ signalId: delivery.signalId, status: delivery.status });
      await r.put(OP_KIND.child_signal, OP_STATUS.completed, { result: value });
      await r.event("child_signalled", { opKey: cmd.opKey, childRunId: child.id, name: cmd.name, signalId: delivery.signalId });
      return { outcome: "value", value };
    },
  },
});
