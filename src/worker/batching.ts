/**
 * Coalesces the messages one side sends in the same tick into one IPC message. A commit answers
 * many reports at once and a worker's activations report in bursts; each IPC send costs far more
 * than the bytes it carries (measured: ~15 µs a send, 15 % of the daemon's time under load), so a
 * burst goes as one `{ t: "batch", m: [...] }`. Order is kept; a lone message goes as it is.
 */
export const BATCH = "batch";

export interface Batcher<M> {
  (message: M): void;
  /** Sends what is pending now, instead of at the end of the tick (before code that may not yield runs). */
  flush(): void;
}

export function createBatcher<M>(deliver: (payload: M | { t: typeof BATCH; m: M[] }) => void): Batcher<M> {
  let pending: M[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const messages = pending;
    pending = [];
    if (messages.length === 1) deliver(messages[0]!);
    else if (messages.length > 1) deliver({ t: BATCH, m: messages });
  };
  const batched = (message: M) => {
    pending.push(message);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(flush);
    }
  };
  return Object.assign(batched, { flush });
}

/**
 * Wraps a sender that may throw (a message too large for the IPC serialiser: `RangeError: Out of
 * memory`) so that one message that cannot go costs only itself: when a batch fails, its messages
 * go one by one, in order, and each that still fails is handed to `unsent` with why.
 */
export function sendingEachOnFailure<M>(
  send: (payload: M | { t: typeof BATCH; m: M[] }) => void,
  unsent: (message: M, error: unknown) => void,
): (payload: M | { t: typeof BATCH; m: M[] }) => void {
  return (payload) => {
    try {
      send(payload);
      return;
    } catch (error) {
      if (!isBatch<M>(payload)) return unsent(payload, error);
    }
    for (const message of payload.m) {
      try {
        send(message);
      } catch (error) {
        unsent(message, error);
      }
    }
  };
}

function isBatch<M>(payload: M | { t: typeof BATCH; m: M[] }): payload is { t: typeof BATCH; m: M[] } {
  return typeof payload === "object" && payload !== null && (payload as { t?: unknown }).t === BATCH && Array.isArray((payload as { m?: unknown }).m);
}

/** The messages a payload carries: a batch's, or the payload itself. */
export function unbatch(raw: unknown): unknown[] {
  if (typeof raw === "object" && raw !== null && (raw as { t?: unknown }).t === BATCH && Array.isArray((raw as { m?: unknown }).m)) {
    return (raw as { m: unknown[] }).m;
  }
  return [raw];
}
