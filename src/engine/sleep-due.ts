/**
 * The kernel fires sleeps a little ahead of their due time (so the batch that records the firing
 * and leases the run is done by then); the fired op's result keeps the due time. The code after a
 * sleep goes on at that due time, never before, by its own clock, and stops waiting if the
 * activation is aborted.
 */
import type { ActivationState } from "./activation-state.ts";
import type { ActivationHost } from "./host.ts";

/** What a fired sleep's result keeps: its due time, and whether it was fired ahead of it. */
export function firedSleep(result: string | null): { dueAt: number; ahead: boolean } | null {
  if (result === null) return null;
  try {
    const fired = JSON.parse(result) as { dueAt?: unknown; ahead?: unknown } | null;
    return typeof fired?.dueAt === "number" ? { dueAt: fired.dueAt, ahead: fired.ahead === true } : null;
  } catch {
    return null;
  }
}

/**
 * Resolves at the sleep's due time (at once when that has passed). `first`: the code goes past
 * this sleep for the first time (not a replay of it), so lateness there says the kernel's lead
 * was too short, when it fired the sleep ahead. If the activation is aborted meanwhile, the code
 * stops here: nothing after the sleep runs before its due time.
 */
export async function untilDue(state: ActivationState, host: ActivationHost, result: string | null, first: boolean): Promise<void> {
  const fired = firedSleep(result);
  const waitMs = fired === null ? 0 : fired.dueAt - host.now();
  if (waitMs < 0 && first && fired?.ahead) host.sleepLate?.(-waitMs);
  if (waitMs <= 0) return;
  // Tracked as work in flight: the activation is not blocked while it waits for the due time.
  await state.track(
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        host.signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      if (host.signal.aborted) done();
      else host.signal.addEventListener("abort", done, { once: true });
    }),
  );
  state.guard();
}
