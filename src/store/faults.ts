/**
 * Storage faults: the database or the machine failed (full disk, I/O error, lost connection, no
 * memory), not a command's logic. The commit queue fails the whole batch on one (and the kernel
 * recovers) rather than telling one caller a raw storage error as its own failure.
 */

/** A failure of the store's own control statements (savepoint, rollback, commit), whatever its code. */
export class StorageFault extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "StorageFault";
  }
}

/**
 * A batch must run again, each command's writes answered before the next command starts: a write
 * sent without waiting failed, and it cannot be told which command it belonged to (PostgreSQL's
 * fast path, see postgres/pg-store.ts). Not a storage fault: nothing is wrong with the database.
 */
export class RetryCarefully extends Error {
  constructor(cause: unknown) {
    super(`a pipelined write failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = "RetryCarefully";
  }
}

// SQLite result codes of the file or the machine.
const SQLITE_FAULT = /^SQLITE_(FULL|IOERR|NOMEM|CANTOPEN|CORRUPT|NOTADB|READONLY|PROTOCOL)/;
// PostgreSQL: the client's connection errors, and SQLSTATE classes 08 (connection), 53 (disk
// full, out of memory), 57P (server shutting down), 58 (system error), XX (internal), and 25006
// (a read-only transaction: the server went read-only, or a fail-over left a standby) and 57014
// (a statement cancelled by the server).
const PG_CLIENT_FAULT = /^ERR_POSTGRES_(CONNECTION|SOCKET|TLS|IDLE_TIMEOUT|LIFETIME_TIMEOUT|CONNECTION_TIMEOUT)/;
const PG_SQLSTATE_FAULT = /^(08|53|57P|58|XX|25006|57014)/;

/** The PostgreSQL store's refusal while its server is away (postgres/availability.ts): a lost connection too. */
const UNAVAILABLE = "database_unavailable";

export function isStorageFault(error: unknown): boolean {
  if (error instanceof StorageFault) return true;
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && (SQLITE_FAULT.test(code) || PG_CLIENT_FAULT.test(code) || code === UNAVAILABLE)) return true;
  return typeof errno === "string" && PG_SQLSTATE_FAULT.test(errno) && code === "ERR_POSTGRES_SERVER_ERROR";
}

/**
 * The connection to PostgreSQL is gone (closed, cut, or ended by the server: SQLSTATE class 08,
 * and 57P01–57P03, a server shutting down or a session terminated).
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === "string" && (PG_CLIENT_FAULT.test(code) || code === UNAVAILABLE)) return true;
  return typeof errno === "string" && /^(08|57P0[123])/.test(errno);
}
