/**
 * An injectable clock: the kernel reads time and arms its one wake-up timer through it, so tests
 * can drive durable timers without waiting.
 */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

// setTimeout clamps delays above 2^31-1 ms to 1 ms; long timers re-arm in steps instead.
const MAX_TIMER_MS = 2_147_483_647;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (fn, delayMs) => {
    // Kept referenced: a script awaiting a sleeping run's result must stay alive until it fires.
    // The runtime's close() clears it.
    return setTimeout(fn, Math.max(0, Math.min(delayMs, MAX_TIMER_MS)));
  },
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** A clock that only moves when told to; timers fire from `advance`. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function createManualClock(start = 1_700_000_000_000): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const fireDue = () => {
    for (const [id, t] of [...timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= now && timers.delete(id)) t.fn();
    }
  };
  return {
    now: () => now,
    setTimer(fn, delayMs) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, delayMs), fn });
      // Like a real timer, one already due fires on its own soon after, without an advance.
      if (delayMs <= 0) setImmediate(() => timers.delete(id) && fn());
      return id;
    },
    clearTimer(handle) {
      timers.delete(handle as number);
    },
    advance(ms) {
      now += ms;
      fireDue();
    },
    set(ms) {
      now = ms;
      fireDue();
    },
  };
}
