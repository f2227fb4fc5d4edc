/**
 * The service-only members of `ctx`: `mailbox()`, `defer()`, `reject()`, `subscribe()` and
 * `unsubscribe()`. In a workflow they throw `wrong_context` naming the member.
 */
import { parseDuration, VilanoError, type FailureBody, type MailboxView } from "../shared/index.ts";
import type { DeferOptions, RejectOptions, SubscribeOptions, Subscription, Unsubscription } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";

export interface TurnControls {
  mailbox(next: NextOp): MailboxView;
  defer(options: DeferOptions): never;
  reject(error: RejectOptions | string): never;
  subscribe(topic: string, options?: SubscribeOptions): Promise<Subscription>;
  unsubscribe(topic: string, options?: SubscribeOptions): Promise<Unsubscription>;
}

const serviceOnly = (member: string): never => {
  throw new VilanoError("wrong_context", `${member} is only available inside a service turn, not in a workflow`);
};

export const workflowTurnControls: TurnControls = {
  mailbox: () => serviceOnly("ctx.mailbox()"),
  defer: () => serviceOnly("ctx.defer()"),
  reject: () => serviceOnly("ctx.reject()"),
  subscribe: async () => serviceOnly("ctx.subscribe()"),
  unsubscribe: async () => serviceOnly("ctx.unsubscribe()"),
};

export function serviceTurnControls(
  view: MailboxView,
  state: ActivationState,
  subscriptions: Pick<TurnControls, "subscribe" | "unsubscribe">,
): TurnControls {
  return {
    ...subscriptions,
    mailbox(next) {
      // Recorded, so a replay of this turn sees the same snapshot.
      const { op, recorded } = next("mailbox", "mailbox", undefined);
      if (recorded?.status === "completed") return JSON.parse(recorded.result!) as MailboxView;
      state.post({ type: "record", kind: "mailbox", opKey: op.opKey, seq: op.seq, name: op.name, value: JSON.stringify(view) });
      return view;
    },
    defer(options) {
      if (!options || typeof options !== "object") throw new VilanoError("validation_failed", "ctx.defer() needs { delay, reason? }");
      const delayMs = parseDuration(options.delay, "defer delay");
      const reason = options.reason === undefined ? {} : { reason: String(options.reason) };
      return state.endTurn({ type: "deferred", delayMs, ...reason });
    },
    reject(given) {
      // The reference's `ctx.reject(error)`: an Error (or anything with a message) or the message itself.
      const options: RejectOptions | undefined = typeof given === "string" ? { message: given } : given;
      if (!options || typeof options.message !== "string" || options.message === "") {
        throw new VilanoError("validation_failed", "ctx.reject() needs an error or { message, reason?, details? } with a non-empty message");
      }
      const error: FailureBody = {
        name: "ServiceTurnRejected",
        message: options.message,
        code: "service_turn_rejected",
        // What the asker branches on (`error.cause.reason`): the reason given, or the kernel's.
        reason: options.reason === undefined ? "service_turn_rejected" : String(options.reason),
        family: "application",
        retryable: false,
      };
      if (options.reason !== undefined || options.details !== undefined) {
        error.details = JSON.parse(JSON.stringify({ reason: options.reason, details: options.details }) ?? "null");
      }
      return state.endTurn({ type: "rejected", error });
    },
  };
}
