/**
 * What an activation needs from whoever runs it (the in-process executor or a worker process):
 * a way to report ops to the kernel, the clock, live log output and an abort signal.
 */
import type { ActivationResult, LiveOutcome, OpCommand, OpResolution, ResolvedRetryPolicy } from "../shared/index.ts";
import type { ExecEnvironment } from "./exec-process.ts";

/** A chunk of a running subprocess's output, for live watchers and capture files. */
export interface ExecOutputChunk {
  opKey: string;
  attempt: number;
  stream: "stdout" | "stderr";
  text: string;
}

/** A declared artifact of a subprocess that exited, capped. */
export interface ExecArtifactFile {
  opKey: string;
  attempt: number;
  path: string;
  /** The first bytes of the file (up to the capture cap). */
  content: Uint8Array;
  /** The file's whole size. */
  bytes: number;
}

/** A step attempt, as announced when it starts. */
export interface StartedStep {
  opKey: string;
  /** The op's position, so a forced failure can be recorded without the worker. */
  seq: number;
  name: string;
  attempt: number;
  /** Null for a step without a timeout. */
  timeoutMs: number | null;
  retry: ResolvedRetryPolicy;
}

export interface ActivationHost {
  /** Reports an op and resolves once the kernel committed it. Rejects if the lease was lost. */
  report(cmd: OpCommand): Promise<OpResolution>;
  /** Reports an op without waiting (recorded values); ordered with later reports. */
  post(cmd: OpCommand): void;
  now(): number;
  /** Prints a `ctx.log` line live (never called for lines already in history). */
  printLog(runId: string, message: string, fields: Record<string, unknown> | undefined): void;
  /** Aborted when the activation must stop (run cancelled, runtime closing). */
  readonly signal: AbortSignal;
  /**
   * The code settled after the activation had been reported suspended (it awaited work that is not
   * a durable op). Its lease lasts until the run is leased again, so this result may still stand.
   */
  settleLate?(result: ActivationResult): void;
  /**
   * Lets the executor hand this activation outcomes committed while its code is still live (an
   * ask's reply), so it can go on without a suspension and a replay.
   */
  receiveOutcomes?(deliver: (opKey: string, outcome: LiveOutcome) => void): void;
  /**
   * How long code blocked only on asks may wait for a live reply before the activation parks
   * (a worker: the reply crosses two processes). Without it, a few event-loop rounds.
   */
  readonly liveGraceMs?: number;
  /** The code went on `lateMs` after a sleep's due time (the kernel fires sleeps further ahead). */
  sleepLate?(lateMs: number): void;
  /** A step attempt starts: a worker pool hard-stops a worker silent past a timed step's deadline. */
  stepStarted?(step: StartedStep): void;
  /** That attempt has ended (its outcome is about to be reported). */
  stepEnded?(opKey: string, timed: boolean): void;
  /** Where and with what environment `ctx.exec` runs subprocesses; without it, exec is refused. */
  readonly exec?: ExecEnvironment;
  /** A subprocess (the leader of its own process group) started: killed with the worker if that dies. */
  execStarted?(pid: number): void;
  execEnded?(pid: number): void;
  execOutput?(chunk: ExecOutputChunk): void;
  execArtifact?(file: ExecArtifactFile): void;
}
