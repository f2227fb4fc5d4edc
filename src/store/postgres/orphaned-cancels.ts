/**
 * Bun 1.4.5's PostgreSQL client has a defect: when the server cancels a statement (SQLSTATE 57014:
 * a DBA's `pg_cancel_backend`, a `statement_timeout`) while statements sent behind it are still
 * queued on the connection, it sometimes rejects a promise of its own that nobody holds, besides
 * the caller's. The caller still gets the error (a batch fails as a storage fault and goes again),
 * but the process also hears an unhandled rejection, which ends it: a daemon would die because an
 * administrator cancelled its wait for the commit lock. Measured: 4 to 10 such rejections in 60 to
 * 80 cancelled lock waits with reads pipelined behind them; none with nothing behind the lock; none
 * for other errors in the same place. Handling every query's promise does not help.
 *
 * The daemon holds this while it runs (`runtime/daemon.ts`; no user code runs in its process): it
 * drops those rejections, a duplicate of an error already handled. Any other unhandled rejection
 * still ends the process (rethrown, it is an uncaught exception, and the daemon has no handler for
 * those), unless the program has listeners of its own (then they decide, as before). It is not
 * installed for an embedded runtime: a listener there would change the embedding program's own
 * rules for rejections (its `uncaughtException` handler, `--unhandled-rejections`).
 */

/** SQLSTATE 57014, query_canceled. */
const CANCELLED = "57014";

let holders = 0;

/** A rejection Bun's client made for a cancelled statement. */
export function isOrphanedCancel(reason: unknown): boolean {
  const { name, errno } = (reason ?? {}) as { name?: unknown; errno?: unknown };
  return name === "PostgresError" && errno === CANCELLED;
}

function onUnhandledRejection(reason: unknown): void {
  if (isOrphanedCancel(reason)) return;
  // Alone, this listener must not change what an unhandled rejection does: end the process.
  if (process.listenerCount("unhandledRejection") === 1) throw reason;
}

/** Held while the returned function is not called (holders are counted). */
export function dropOrphanedCancels(): () => void {
  if (holders++ === 0) process.on("unhandledRejection", onUnhandledRejection);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) process.off("unhandledRejection", onUnhandledRejection);
  };
}
