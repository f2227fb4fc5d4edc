/**
 * The daemon's resident memory through a round: VmRSS sampled from /proc/<pid>/status while the
 * round runs, and VmHWM (the kernel's own peak) read before the daemon is killed, so a spike
 * between two samples still counts.
 */
import { readFileSync } from "node:fs";

/** A `VmRSS:` or `VmHWM:` field of a /proc status text, in KiB; null when absent. */
export function statusKib(status: string, field: "VmRSS" | "VmHWM"): number | null {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  return match ? Number(match[1]) : null;
}

function readStatus(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null; // gone (killed) or not Linux
  }
}

export interface MemoryWatch {
  /** Reads the peak once more and stops sampling; the largest figure seen, in MiB. */
  stop(): number;
}

/** Samples `pid`'s resident memory every `everyMs` until `stop()`. */
export function watchDaemonMemory(pid: number, everyMs = 100): MemoryWatch {
  let maxKib = 0;
  const sample = () => {
    const status = readStatus(pid);
    if (status === null) return;
    maxKib = Math.max(maxKib, statusKib(status, "VmRSS") ?? 0, statusKib(status, "VmHWM") ?? 0);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return Math.round(maxKib / 1024);
    },
  };
}
