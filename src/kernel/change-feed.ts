/**
 * The kernel's change feed: which runs each commit touched (their timelines grew), told to
 * listeners once per batch, after the batch is committed and its effects ran. Live dashboard pages
 * and the API's event streams wait on it instead of polling the store. Run ids are collected only
 * while someone listens, so the hot path pays one check per event.
 *
 * `version` counts the commits that touched runs, listened to or not: a page remembers the version
 * it was drawn at, and its stream, once subscribed, catches up on whatever committed in between.
 */
export type ChangeListener = (runIds: ReadonlySet<string>) => void;

export interface ChangeFeed {
  /** Inside a command: `runId` got a new event. */
  touched(runId: string): void;
  /** After a commit: tells every listener the runs touched since the last commit. */
  committed(): void;
  /** Hears every commit that touched runs; returns the way to stop hearing. */
  subscribe(listener: ChangeListener): () => void;
  /** How many commits have touched runs so far (in this process). */
  version(): number;
}

export function createChangeFeed(onListenerError: (error: unknown) => void): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  let runIds = new Set<string>();
  let dirty = false;
  let version = 0;
  return {
    touched(runId) {
      dirty = true;
      if (listeners.size > 0) runIds.add(runId);
    },
    committed() {
      if (!dirty) return;
      dirty = false;
      version++;
      if (runIds.size === 0) return;
      const told = runIds;
      runIds = new Set();
      for (const listener of [...listeners]) {
        try {
          listener(told);
        } catch (error) {
          onListenerError(error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    version: () => version,
  };
}
