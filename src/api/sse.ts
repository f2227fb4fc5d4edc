/**
 * Server-sent event streams: kept open while nothing happens (the daemon closes a connection idle
 * for 60 s, Bun.serve's `idleTimeout`, and a stream on a quiet run may wait for hours), and
 * counted, so held streams cannot take every connection the daemon has (see
 * runtime/connection-limits.ts).
 */
import type { Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { VilanoError } from "../shared/index.ts";
import { refusalResponse } from "./error-envelope.ts";

/** How often a quiet stream writes a comment (well inside the daemon's 60 s idle timeout). */
export const SSE_HEARTBEAT_MS = 20_000;
/** What a refused stream is told to wait before trying again: streams last long, so not at once. */
export const STREAM_RETRY_AFTER_SECONDS = 5;

/** Writes an SSE comment line every `ms` (clients ignore comments) until stopped; returns the way to stop. */
export function keepStreamAlive(stream: SSEStreamingApi, ms = SSE_HEARTBEAT_MS): () => void {
  const timer = setInterval(() => {
    if (!stream.aborted && !stream.closed) stream.write(": ping\n\n").catch(() => {});
  }, ms);
  return () => clearInterval(timer);
}

/** The event streams one server keeps open at once, the API's and the dashboard's together. */
export interface StreamSlots {
  /**
   * Takes a slot for a stream about to open; returns its release (calling it twice frees one slot).
   * @throws VilanoError(daemon_overloaded) when every slot is taken.
   */
  take(): () => void;
  readonly open: number;
  readonly max: number;
}

export function createStreamSlots(max: number): StreamSlots {
  let open = 0;
  return {
    take() {
      if (open >= max) {
        throw new VilanoError(
          "daemon_overloaded",
          `the daemon already serves ${max} event streams, its limit (VILANO_MAX_STREAMS); close one, or try again in ${STREAM_RETRY_AFTER_SECONDS}s`,
          { details: { maxStreams: max, retryAfterSeconds: STREAM_RETRY_AFTER_SECONDS } },
        );
      }
      open++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        open--;
      };
    },
    get open() {
      return open;
    },
    get max() {
      return max;
    },
  };
}

/**
 * `streamSSE` in a slot of `slots` (none given: uncounted), held until `body` ends, however it
 * ends. With every slot taken, the answer is 503 with `Retry-After` and nothing is streamed.
 */
export function streamInSlot(c: Context, slots: StreamSlots | undefined, body: (stream: SSEStreamingApi) => Promise<void>): Response {
  let release: () => void;
  try {
    release = slots?.take() ?? (() => {});
  } catch (error) {
    if (error instanceof VilanoError) return refusalResponse(error);
    throw error;
  }
  try {
    return streamSSE(c, async (stream) => {
      try {
        await body(stream);
      } finally {
        release();
      }
    });
  } catch (error) {
    release();
    throw error;
  }
}
