/**
 * Helpers shared by the benchmarks of `bun run bench` (scripts/bench.ts): the result shape,
 * output (JSON lines on stdout, progress on stderr), percentiles and timing.
 */

export interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  target?: string;
  pass?: boolean;
  [extra: string]: unknown;
}

/** Generous per-run bound: a hung run fails the bench instead of hanging it. */
export const RESULT_TIMEOUT = "60s";

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
export const emit = (result: BenchResult) => process.stdout.write(`${JSON.stringify(result)}\n`);
export const round = (value: number, digits = 3) => Number(value.toFixed(digits));

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of no samples");
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 0.5);

export interface LatencySummary {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** p50/p99/max/mean of latency samples in ms. */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1]!),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
  };
}

export async function timeMs<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** Throws (failing the bench run) when a result is wrong. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

/** A port nothing listens on right now, as the OS hands it out (on 127.0.0.1). */
export function freePort(): number {
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}
