/**
 * How many requests and event streams the daemon serves at once. Bun.serve has no connection cap
 * of its own and accepts sockets until the process runs out of file descriptors; at that limit
 * (20,000 held event streams, measured) nothing else gets in — not `/health`, not the CLI, not a
 * database file. So the daemon counts what it serves and refuses past a cap kept under the
 * descriptor limit, and keeps event streams (which last as long as a run) well below that cap, so
 * short requests always find room.
 */
import { readFileSync } from "node:fs";
import { VilanoError } from "../shared/index.ts";

export const DEFAULT_MAX_CONNECTIONS = 1024;
export const DEFAULT_MAX_STREAMS = 256;
/** Requests that event streams can never take: room for `/health`, the CLI and the dashboard's pages. */
export const RESERVED_FOR_REQUESTS = 16;
/** Descriptors kept for the daemon's own use: its database and log, workers and their pipes, captures. */
export const DESCRIPTOR_HEADROOM = 256;

export interface ConnectionLimits {
  /** Requests in flight at once (event streams and worker WebSockets included); `/health` is never refused. */
  maxConnections: number;
  /** Event streams open at once (the API's run events and the dashboard's live pages). */
  maxStreams: number;
  /** The soft limit on open files the caps were fitted under (null where it cannot be read). */
  descriptorLimit: number | null;
}

/** This process's soft limit on open files (Bun raises it to the hard limit at start), or null. */
export function readDescriptorLimit(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.slice("Max open files".length).trim().split(/\s+/)[0];
    return soft === undefined || soft === "unlimited" || !/^\d+$/.test(soft) ? null : Number(soft);
  } catch {
    return null;
  }
}

/**
 * The caps from the configured values (null: the defaults, fitted under the descriptor limit).
 * @throws VilanoError(validation_failed) naming the variable when a configured cap cannot hold:
 *   connections the descriptors cannot back, or streams that leave no room for other requests.
 */
export function resolveConnectionLimits(
  configured: { maxConnections: number | null; maxStreams: number | null },
  descriptorLimit: number | null = readDescriptorLimit(),
): ConnectionLimits {
  const usable = descriptorLimit === null ? Number.POSITIVE_INFINITY : descriptorLimit - DESCRIPTOR_HEADROOM;
  if (usable < RESERVED_FOR_REQUESTS * 2) {
    throw new VilanoError(
      "validation_failed",
      `the limit on open files (ulimit -n) is ${descriptorLimit}: too few for the daemon, which keeps ${DESCRIPTOR_HEADROOM} for itself; raise it`,
    );
  }
  const maxConnections = configured.maxConnections ?? Math.min(DEFAULT_MAX_CONNECTIONS, usable);
  if (maxConnections > usable) {
    throw new VilanoError(
      "validation_failed",
      `invalid environment variable VILANO_MAX_CONNECTIONS: ${maxConnections} is more than the open-file limit can back (ulimit -n is ${descriptorLimit}, and the daemon keeps ${DESCRIPTOR_HEADROOM} for its database, log and workers); use at most ${usable}, or raise ulimit -n`,
      { details: { field: "VILANO_MAX_CONNECTIONS", descriptorLimit, max: usable } },
    );
  }
  const roomForStreams = maxConnections - RESERVED_FOR_REQUESTS;
  const maxStreams = configured.maxStreams ?? Math.min(DEFAULT_MAX_STREAMS, Math.floor(maxConnections / 4));
  if (maxStreams > roomForStreams) {
    throw new VilanoError(
      "validation_failed",
      `invalid environment variable VILANO_MAX_STREAMS: ${maxStreams} would leave fewer than ${RESERVED_FOR_REQUESTS} of the ${maxConnections} connections (VILANO_MAX_CONNECTIONS) for other requests, so /health and the CLI could be shut out; use at most ${roomForStreams}`,
      { details: { field: "VILANO_MAX_STREAMS", maxConnections, max: roomForStreams } },
    );
  }
  return { maxConnections, maxStreams, descriptorLimit };
}
