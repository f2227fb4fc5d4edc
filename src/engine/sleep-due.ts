/**
 * The kernel fires sleeps a little ahead of their due time (so the batch that records the firing
 * and leases the run is done by then); the fired op's result keeps the due time. The code after a
 * sleep goes on at that due time, never before, by its own clock, and stops waiting if the
 * activation is aborted.
 */
import type { ActivationState } from "./activation-state.ts";
import type { ActivationHost } from "./host.ts";

/** The due time kept in a fired sleep's result, or null (a sleep recorded before due times were kept). */
export function sleepDueAt(result: string | null): number | null {
  if (result === null) return null;
  try {
    const dueAt = (JSON.parse(result) as { dueAt?: unknown } | null)?.dueAt;
    return typeof dueAt === "number" ? dueAt : null;
  } catch {
    return null;
  }
}

/** Resolves at the sleep's due time (at once when that has passed), or when the activation is aborted. */
export async function untilDue(state: ActivationState, host: ActivationHost, result: string | null): Promise<void> {
  const dueAt = sleepDueAt(result);
  const waitMs = dueAt === null ? 0 : dueAt - host.now();
  if (waitMs < 0) host.sleepLate?.(-waitMs);
  if (waitMs <= 0 || host.signal.aborted) return;
  // Tracked as work in flight: the activation is not blocked while it waits for the due time.
  await state.track(
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        host.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      host.signal.addEventListener("abort", done, { once: true });
    }),
  );
}
