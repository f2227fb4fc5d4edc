/**
 * The kernel's one OS timer over its durable timers (`ops.wake_at`, `messages.wake_at`): armed
 * for the earliest due time, a sleep its lead earlier (timers.ts); when it goes off, one command
 * fires what is due and says when to wake next. A failed look or firing tries again after 1 s.
 */
import type { Clock, Logger } from "../shared/index.ts";
import type { StoreOps } from "../store/index.ts";
import { createSleepLead, createWakeTimer, nextArmAt } from "./timers.ts";

/** How long a failed look at the next timer, or a failed firing, waits before the next try. */
const RETRY_MS = 1_000;

export interface WakeUpsOptions {
  reads: StoreOps;
  clock: Clock;
  log: Logger | undefined;
  /** Fire sleeps ahead of their due time (timers.ts). */
  sleepLead: boolean;
  /** Submits the command that fires what is due, sleeps up to `leadMs` ahead. */
  fire(leadMs: number): Promise<{ fired: number; sleeps: number; nextAt: number | null }>;
  isClosed(): boolean;
}

export interface WakeUps {
  /** A durable timer is due at `at`: wake no later (a sleep: its lead earlier). */
  arm(at: number, kind?: "sleep"): void;
  /** Arms for the earliest timer in the database (at start, after a recovery or a takeover). */
  armNext(): Promise<void>;
  /** Code went on `lateMs` after a sleep's due time: sleeps are fired further ahead. */
  noteLateness(lateMs: number): void;
  stop(): void;
}

export function createWakeUps(options: WakeUpsOptions): WakeUps {
  const { clock, log } = options;
  const wakeTimer = createWakeTimer(clock, () => void fireTimers());
  const lead = createSleepLead(options.sleepLead);

  async function fireTimers(): Promise<void> {
    if (options.isClosed()) return;
    try {
      const submitted = performance.now();
      const { fired, sleeps, nextAt } = await options.fire(lead.ms);
      if (sleeps > 0) lead.observe(performance.now() - submitted);
      if (fired > 0) log?.debug(`fired ${fired} timer(s)`);
      wakeTimer.arm(nextAt);
    } catch (error) {
      if (options.isClosed()) return;
      log?.error("firing timers failed; retrying in 1s:", error);
      wakeTimer.arm(clock.now() + RETRY_MS);
    }
  }

  return {
    arm: (at, kind) => wakeTimer.arm(kind === "sleep" ? at - lead.ms : at),
    async armNext() {
      try {
        wakeTimer.arm(await nextArmAt(options.reads, lead.ms, clock.now()));
      } catch (error) {
        if (options.isClosed()) return;
        log?.error("could not read the next timer; looking again in 1s:", error);
        wakeTimer.arm(clock.now() + RETRY_MS);
      }
    },
    noteLateness: (lateMs) => lead.noteLateness(lateMs),
    stop: () => wakeTimer.stop(),
  };
}
