/**
 * The kernel's change feed: which runs each commit touched (their timelines grew), told to
 * listeners once per batch, after the batch is committed and its effects ran. Live dashboard pages
 * and the API's event streams wait on it instead of polling the store. Nothing is collected while
 * nobody listens, so the hot path pays one check per event.
 */
export type ChangeListener = (runIds: ReadonlySet<string>) => void;

export interface ChangeFeed {
  /** Inside a command: `runId` got a new event. */
  touched(runId: string): void;
  /** After a commit: tells every listener the runs touched since the last commit. */
  committed(): void;
  /** Hears every commit that touched runs; returns the way to stop hearing. */
  subscribe(listener: ChangeListener): () => void;
}

export function createChangeFeed(onListenerError: (error: unknown) => void): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  let runIds = new Set<string>();
  return {
    touched(runId) {
      if (listeners.size > 0) runIds.add(runId);
    },
    committed() {
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
  };
}
