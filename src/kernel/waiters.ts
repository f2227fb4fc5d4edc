/**
 * Callers waiting for something the kernel will tell after a commit: a run's end (`result`), an
 * external ask's reply. One set of waiters per kind, keyed by run id or message id.
 */
import { VilanoError } from "../shared/index.ts";

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

export interface Waiters<K, T> {
  /**
   * Waits for `notify(key, …)`, unless `ready()` already has the answer. The waiter is registered
   * before the read: a notice after commit that lands while the read is in flight still finds it.
   * A `ready()` that throws (no such run) forgets the waiter and throws.
   */
  wait(key: K, ready: () => Promise<T | null>, signal?: AbortSignal): Promise<T>;
  /** Resolves everyone waiting on `key`. */
  notify(key: K, value: T): void;
  has(key: K): boolean;
  keys(): K[];
  /** Rejects every waiter with `error` (the kernel closed). */
  rejectAll(error: unknown): void;
}

/** `isClosed`: a wait asked for once the kernel is closing is refused at once. */
export function createWaiters<K, T>(isClosed: () => boolean): Waiters<K, T> {
  const byKey = new Map<K, Set<Waiter<T>>>();
  return {
    async wait(key, ready, signal) {
      if (isClosed()) throw new VilanoError("runtime_closed", "the runtime is closed");
      let set = byKey.get(key);
      if (!set) byKey.set(key, (set = new Set()));
      const waiters = set;
      let waiter!: Waiter<T>;
      const notified = new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
      // Rejected by an abort or a close while the read was in flight, it may never be awaited.
      notified.catch(() => {});
      waiters.add(waiter);
      const forget = () => {
        waiters.delete(waiter);
        if (waiters.size === 0 && byKey.get(key) === waiters) byKey.delete(key);
      };
      const onAbort = () => {
        forget();
        waiter.reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      try {
        let now: T | null;
        try {
          now = await ready();
        } catch (error) {
          forget(); // nothing will ever be told
          throw error;
        }
        if (now !== null) {
          forget();
          return now;
        }
        return await notified;
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    },
    notify(key, value) {
      const waiters = byKey.get(key);
      if (!waiters) return;
      byKey.delete(key);
      for (const waiter of waiters) waiter.resolve(value);
    },
    has: (key) => byKey.has(key),
    keys: () => [...byKey.keys()],
    rejectAll(error) {
      for (const waiters of byKey.values()) for (const waiter of waiters) waiter.reject(error);
      byKey.clear();
    },
  };
}
