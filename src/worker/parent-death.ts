/**
 * Workers never outlive the daemon. On Linux the kernel itself kills a worker when its parent dies
 * (`prctl(PR_SET_PDEATHSIG, SIGKILL)` through bun:ffi), which works even while the worker's event
 * loop is blocked by user code; checking the parent right after arming closes the race with a
 * parent that died first. Elsewhere, losing the IPC channel ends the worker.
 */
import { dlopen, FFIType } from "bun:ffi";

const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

export function armParentDeath(parentPid: number): void {
  process.on("disconnect", () => process.exit(0));
  if (process.platform !== "linux") return;
  try {
    const libc = dlopen("libc.so.6", {
      prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
      getppid: { args: [], returns: FFIType.i32 },
    });
    libc.symbols.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (libc.symbols.getppid() !== parentPid) process.exit(0);
  } catch {
    // No libc to call (a musl system, say): the IPC disconnect above still ends the worker.
  }
}
