/**
 * The host a live execution's code talks to, which can be pointed at another activation's host
 * when a parked execution resumes: its reports then carry the new lease, its logs and steps go to
 * the new activation. Every member delegates to the host of the moment.
 */
import type { ActivationHost } from "./host.ts";

export interface SwitchableHost {
  readonly host: ActivationHost;
  switchTo(next: ActivationHost): void;
  /** The op keys the code has sent to the kernel (a resume checks that history holds each). */
  readonly sent: ReadonlySet<string>;
}

export function createSwitchableHost(initial: ActivationHost): SwitchableHost {
  let current = initial;
  const sent = new Set<string>();
  const host: ActivationHost = {
    report: (cmd) => (sent.add(cmd.opKey), current.report(cmd)),
    post: (cmd) => (sent.add(cmd.opKey), current.post(cmd)),
    now: () => current.now(),
    printLog: (runId, message, fields) => current.printLog(runId, message, fields),
    get signal() {
      return current.signal;
    },
    settleLate: (result) => current.settleLate?.(result),
    receiveOutcomes: (deliver) => current.receiveOutcomes?.(deliver),
    get liveGraceMs() {
      return current.liveGraceMs;
    },
    sleepLate: (lateMs) => current.sleepLate?.(lateMs),
    stepStarted: (step) => current.stepStarted?.(step),
    stepEnded: (opKey, timed) => current.stepEnded?.(opKey, timed),
    get exec() {
      return current.exec;
    },
    execStarted: (pid) => current.execStarted?.(pid),
    execEnded: (pid) => current.execEnded?.(pid),
    execOutput: (chunk) => current.execOutput?.(chunk),
    execArtifact: (file) => current.execArtifact?.(file),
  };
  return {
    host,
    switchTo(next) {
      current = next;
    },
    sent,
  };
}
