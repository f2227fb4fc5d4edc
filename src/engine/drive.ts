/**
 * Drives one activation's code to its end: it returns or throws, or it blocks on durable waits
 * (then the activation is suspended), or a flag says it must stop. Ops still in flight are always
 * settled first, so nothing they report can race the activation's own result.
 */
import type { ActivationResult, HistoryOp } from "../shared/index.ts";
import { createActivationState, type ActivationState } from "./activation-state.ts";
import { createHistory, type History } from "./history.ts";
import type { ActivationHost } from "./host.ts";
import { createReplayScheduler, type ReplayScheduler } from "./replay-scheduler.ts";

export type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface Driven {
  state: ActivationState;
  history: History;
  scheduler: ReplayScheduler;
}

/** Builds the activation's state, history and replay scheduler, wired to poke each other. */
export function prepare(ops: readonly HistoryOp[], host: ActivationHost, scope = ""): Driven {
  let state: ActivationState | undefined;
  const scheduler = createReplayScheduler(ops, () => state?.poke());
  state = createActivationState(host, () => scheduler.idle());
  const live = state;
  host.receiveOutcomes?.((opKey, outcome) => live.deliver(opKey, outcome));
  return { state, history: createHistory(ops, scope), scheduler };
}

/**
 * Runs the code and turns how it ended into a result. When it blocks on waits the result is
 * `suspended`; if the code later settles anyway (it awaited non-durable work the quiescence check
 * cannot see), `onLate` gets the result it would have had.
 */
export function drive(
  state: ActivationState,
  run: () => Promise<unknown>,
  toResult: (settled: Settled) => ActivationResult,
  onLate?: (result: ActivationResult) => void,
): Promise<ActivationResult> {
  return driveSettled(state, startCode(run), toResult, onLate);
}

/** Starts the code; how it ends, as a value (a parked execution keeps it for its next activation). */
export function startCode(run: () => Promise<unknown>): Promise<Settled> {
  return Promise.resolve()
    .then(run)
    .then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
}

/** Like `drive`, for code already started (a resumed execution is driven again, by its next activation). */
export async function driveSettled(
  state: ActivationState,
  settled: Promise<Settled>,
  toResult: (settled: Settled) => ActivationResult,
  onLate?: (result: ActivationResult) => void,
): Promise<ActivationResult> {
  const first = await Promise.race([settled, state.blocked().then(() => null)]);
  await state.settle();
  state.end();
  const flagged = flaggedResult(state);
  if (flagged) return flagged;
  if (first !== null) return toResult(first);
  if (onLate) {
    const epoch = state.epoch;
    void settled.then(async (late) => {
      await state.settle();
      // Resumed since by another activation: that one says how the code ended.
      if (state.epoch !== epoch) return;
      const result = flaggedResult(state) ?? toResult(late);
      if (result.type !== "aborted") onLate(result);
    });
  }
  return { type: "suspended" };
}

/** The flags win over what the code returned or threw. */
export function flaggedResult(state: ActivationState): ActivationResult | null {
  if (state.aborted) return { type: "aborted" };
  if (state.fatal) return { type: "failed", error: state.fatal };
  if (state.turnEnd) return state.turnEnd;
  return null;
}
