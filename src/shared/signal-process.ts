/**
 * The one way Vilano, its tests and its scripts send a signal to a process or a process group
 * (`bun run check-signals` refuses a raw `process.kill` or `.kill(` anywhere else).
 *
 * Why: kill(2) reads a pid of 0 as "my own process group", -1 as "every process I may signal" and
 * 1 as init, and `process.kill(-pid)` of those is no better. A pid parsed from a file, a database
 * row or another process's message can be any of them by mistake — `Number("")` is 0 — and one
 * such `SIGSTOP` once stopped a whole test run, `bun test` included, for good. So a pid must be an
 * integer > 1 and a process group's id likewise; anything else is refused with an error naming
 * it, before anything is sent.
 *
 * The probe (signal 0) sends nothing, so it may name pid 1: a daemon can be a container's init,
 * and calling it dead would let another process take its database over.
 *
 * @example
 * signalProcess(pid, "SIGTERM");          // false when no such process
 * signalProcessGroup(pgid, "SIGKILL");     // the whole group the child leads
 * signalChild(proc, "SIGKILL");            // a Bun.spawn child (a no-op once it has exited)
 */
import { VilanoError } from "./errors.ts";

/** A signal by name, or 0: the probe that checks a pid without sending anything. */
export type ProcessSignal = NodeJS.Signals | 0;

/** A child process handle (`Bun.spawn`'s, node's): signalled through its own `kill`, which knows when it has exited. */
export interface SignallableChild {
  readonly pid: number;
  kill(signal?: NodeJS.Signals | number): unknown;
}

const PROBE = 0;

/** Whether `pid` may be given to kill(2) with `signal`: an integer > 1 (≥ 1 for the probe). */
export function isSignallablePid(pid: unknown, signal: ProcessSignal = "SIGTERM"): pid is number {
  const lowest = signal === PROBE ? 1 : 2;
  return typeof pid === "number" && Number.isSafeInteger(pid) && pid >= lowest;
}

function refuse(target: string, pid: unknown, signal: ProcessSignal): never {
  const shown = typeof pid === "string" ? JSON.stringify(pid) : String(pid);
  const why = signal === PROBE ? "an integer ≥ 1" : "an integer > 1 (0 and -1 would reach a whole process group or every process, 1 is init)";
  throw new VilanoError("internal", `refusing to send ${signal === PROBE ? "the probe signal 0" : signal} to ${target} ${shown}: it must be ${why}`, {
    details: { pid: typeof pid === "number" && !Number.isNaN(pid) ? pid : shown, signal },
  });
}

/** kill(2), with "no such process" as false rather than an error; any other error (EPERM) is thrown. */
function deliver(target: number, signal: ProcessSignal): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/**
 * Sends `signal` to the process `pid`; false when there is no such process. Throws for a pid that
 * is not an integer > 1 (≥ 1 for the probe, signal 0), and for EPERM.
 */
export function signalProcess(pid: number, signal: ProcessSignal): boolean {
  if (!isSignallablePid(pid, signal)) refuse("pid", pid, signal);
  return deliver(pid, signal);
}

/**
 * Sends `signal` to every process of the group `pgid` leads (a child spawned `detached` leads
 * one whose id is its pid); false when the group is empty. `pgid` is the group's id, positive:
 * one that is not an integer > 1 is refused.
 */
export function signalProcessGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!isSignallablePid(pgid, signal)) refuse("process group", pgid, signal);
  return deliver(-pgid, signal);
}

/**
 * Signals a child through its own handle (a no-op once it has exited and been reaped, so never
 * a recycled pid); refused like `signalProcess` when its pid is not an integer > 1.
 */
export function signalChild(child: SignallableChild, signal: NodeJS.Signals = "SIGTERM"): void {
  if (!isSignallablePid(child.pid, signal)) refuse("child pid", child.pid, signal);
  child.kill(signal);
}
