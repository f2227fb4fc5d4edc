/**
 * Keeping server-sent event streams open while nothing happens: the daemon closes a connection
 * idle for 60 s (Bun.serve's `idleTimeout`), and a stream on a quiet run may wait for hours.
 */
import type { SSEStreamingApi } from "hono/streaming";

/** How often a quiet stream writes a comment (well inside the daemon's 60 s idle timeout). */
export const SSE_HEARTBEAT_MS = 20_000;

/** Writes an SSE comment line every `ms` (clients ignore comments) until stopped; returns the way to stop. */
export function keepStreamAlive(stream: SSEStreamingApi, ms = SSE_HEARTBEAT_MS): () => void {
  const timer = setInterval(() => {
    if (!stream.aborted && !stream.closed) stream.write(": ping\n\n").catch(() => {});
  }, ms);
  return () => clearInterval(timer);
}
