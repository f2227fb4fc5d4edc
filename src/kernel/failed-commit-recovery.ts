/**
 * After a failed commit the kernel puts itself right as soon as the database takes writes again.
 * The recovery command goes first in the very next batch (`recover` submits it so), so no
 * activation that lost a report in the failed batch commits anything more under its old fence;
 * while it fails, it is retried with a growing wait.
 */
import type { Clock, Logger } from "../shared/index.ts";
import type { RunRow } from "../store/index.ts";

const RECOVERY_FIRST_MS = 200;
const RECOVERY_MAX_MS = 5_000;

export interface FailedCommitRecoveryOptions {
  clock: Clock;
  log: Logger | undefined;
  /** Submits the recovery command first in the next batch; resolves with the runs it made pending. */
  recover(): Promise<RunRow[]>;
  /** After the recovery committed: hand the runs over, claim work, arm the timer. */
  recovered(pending: RunRow[]): Promise<void>;
}

export interface FailedCommitRecovery {
  /** From here on a failed batch starts a recovery (before, a failed batch is `open`'s own, and `open` says so). */
  start(): void;
  /** A batch failed to commit. */
  failed(error: unknown): void;
  /** The kernel closes: no more recoveries, the pending retry is cancelled. */
  stop(): void;
}

export function createFailedCommitRecovery(options: FailedCommitRecoveryOptions): FailedCommitRecovery {
  const { clock, log } = options;
  let started = false;
  let stopped = false;
  let recovering = false;
  let delay = RECOVERY_FIRST_MS;
  let retryTimer: unknown = null;
  let lastFailureAt = -Infinity;

  function retryLater(): void {
    retryTimer = clock.setTimer(() => {
      retryTimer = null;
      void recoverNow();
    }, delay);
    delay = Math.min(delay * 2, RECOVERY_MAX_MS);
  }

  async function recoverNow(): Promise<void> {
    if (stopped) return;
    try {
      const pending = await options.recover();
      recovering = false;
      log?.info(`recovered after a failed commit; ${pending.length} run(s) dispatched again`);
      await options.recovered(pending);
    } catch {
      if (stopped) return;
      // Still failing (the disk is still full): try again after a while, longer each time.
      log?.warn(`recovery after a failed commit could not commit either; retrying in ${delay} ms`);
      retryLater();
    }
  }

  return {
    start() {
      started = true;
    },
    failed(error) {
      if (stopped || recovering || !started) return;
      recovering = true;
      const now = clock.now();
      // A failure soon after the last one (the disk is still full) waits longer each time, so a run
      // that fills the disk again at once is not retried in a tight loop.
      const repeated = now - lastFailureAt < RECOVERY_MAX_MS;
      lastFailureAt = now;
      if (!repeated) delay = RECOVERY_FIRST_MS;
      log?.error(`a commit failed; runs that were running go again once the database takes writes${repeated ? ` (in ${delay} ms)` : ""}:`, error);
      if (!repeated) return void recoverNow();
      retryLater();
    },
    stop() {
      stopped = true;
      if (retryTimer !== null) clock.clearTimer(retryTimer);
      retryTimer = null;
    },
  };
}
