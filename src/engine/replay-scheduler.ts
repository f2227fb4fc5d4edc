/**
 * Delivers recorded outcomes to replaying code in the order they were first delivered.
 *
 * Op keys are handed out in call order, and when branches run in parallel (Promise.all) the call
 * order of later ops depends on which earlier op finished first. On replay every recorded op is
 * ready at once, so delivering them in call order could hand one branch another branch's result.
 * Each outcome carries its delivery number (`resolvedSeq`); this scheduler releases requested
 * outcomes strictly in that order, letting the code that one release wakes run (and request its
 * next op) before the next release.
 */
import { AWAITED_KINDS, type HistoryOp } from "../shared/index.ts";

/** How many microtask turns to give woken code before checking with a macrotask. */
export const MICROTASK_PATIENCE = 64;

export interface ReplayScheduler {
  /** Resolves when it is this recorded op's turn to be delivered. */
  turn(op: HistoryOp): Promise<void>;
  /** True when no requested outcome is held back. */
  idle(): boolean;
}

export function createReplayScheduler(ops: readonly HistoryOp[], onRelease: () => void): ReplayScheduler {
  const order = ops
    .filter((op) => op.resolvedSeq !== null && AWAITED_KINDS.has(op.kind) && (op.status === "completed" || op.status === "failed"))
    .sort((a, b) => a.resolvedSeq! - b.resolvedSeq!)
    .map((op) => op.opKey);
  const position = new Map(order.map((key, i) => [key, i]));
  const released = new Set<string>();
  const waiting = new Map<string, () => void>();
  let next = 0;
  let pumping = false;

  const release = (key: string) => {
    const resolve = waiting.get(key)!;
    waiting.delete(key);
    released.add(key);
    resolve();
    onRelease();
  };

  const skipReleased = () => {
    while (next < order.length && released.has(order[next]!)) next++;
  };

  const hasWaiting = (key: string | undefined) => key !== undefined && waiting.has(key);

  /** Lets code woken by a release run (and request its next ops) before anything else is released. */
  async function letWokenCodeRun(): Promise<void> {
    for (let i = 0; i < MICROTASK_PATIENCE; i++) await Promise.resolve();
  }

  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (waiting.size > 0) {
        skipReleased();
        const key = order[next];
        if (!hasWaiting(key)) {
          // The next outcome in order is not requested yet: give the code woken so far time to ask.
          await letWokenCodeRun();
          if (!hasWaiting(key)) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        if (hasWaiting(key)) {
          release(key!);
        } else {
          // Nothing more will ask for it (the code took another path): release the earliest requested.
          release([...waiting.keys()].sort((a, b) => position.get(a)! - position.get(b)!)[0]!);
        }
        // Others already waiting must not overtake the continuation of the one just released.
        if (waiting.size > 0) await letWokenCodeRun();
      }
    } finally {
      pumping = false;
    }
  }

  return {
    turn(op) {
      if (!position.has(op.opKey) || released.has(op.opKey)) return Promise.resolve();
      return new Promise<void>((resolve) => {
        waiting.set(op.opKey, resolve);
        void pump();
      });
    },
    idle: () => waiting.size === 0,
  };
}
