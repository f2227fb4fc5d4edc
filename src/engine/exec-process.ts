/**
 * Runs one attempt of a `ctx.exec` subprocess: argv only (never a shell), in its own process group
 * (so a timeout or a cancel kills the whole tree it started, and stray grandchildren are cleaned up
 * when it exits), with stdout and stderr captured up to a byte cap and marked when cut, and the
 * declared artifacts read (capped) once it has ended — however it ended: a failed build's report is
 * what explains the failure.
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { formatDuration, signalProcessGroup, type FailureBody } from "../shared/index.ts";

export interface ExecEnvironment {
  /** Where subprocesses run (the activation's own directory): `cwd` is resolved inside it and may not leave it. */
  workspace: string;
  /** Makes the workspace when it is first needed (most activations never need it); without it, it exists. */
  ensureWorkspace?(): void;
  /** The clean environment subprocesses start from; a spec's `env` is merged over it. */
  baseEnv: Readonly<Record<string, string>>;
  /** Largest capture kept per stream and per artifact, in bytes (default 256 KiB). */
  maxCaptureBytes?: number;
  /**
   * The value cap (VILANO_MAX_VALUE_BYTES): captures are recorded with the op and artifacts cross to
   * the daemon, so `capture.maxBytes` may not exceed it (the default is lowered to it).
   */
  maxValueBytes?: number;
}

export const DEFAULT_MAX_CAPTURE_BYTES = 256 * 1024;

/** An exec spec after validation: what one attempt runs. */
export interface ResolvedExec {
  name: string;
  cmd: string;
  args: readonly string[];
  /** Absolute, inside the workspace. */
  cwd: string;
  /** Only the names are ever stored. */
  env: Readonly<Record<string, string>>;
  stdin: string | null;
  timeoutMs: number | null;
  capture: { stdout: boolean; stderr: boolean; artifacts: readonly string[]; maxBytes: number };
}

export interface ExecArtifact {
  path: string;
  bytes: number;
  truncated: boolean;
}

export interface ExecRawResult {
  exitCode: number;
  signalCode: string | null;
  stdout: string;
  stderr: string;
  artifacts: ExecArtifact[];
}

export interface ExecHooks {
  started?(pid: number): void;
  ended?(pid: number): void;
  output?(stream: "stdout" | "stderr", text: string): void;
  /** A declared artifact, capped: `bytes` is its whole size. */
  artifact?(path: string, content: Uint8Array, bytes: number): void;
}

/** A failed attempt that got as far as running carries the declared artifacts it left. */
export type ExecOutcome = { ok: true; result: ExecRawResult } | { ok: false; error: FailureBody; artifacts?: ExecArtifact[] };

/** Appended to a capture that hit its cap. */
export const truncationMark = (dropped: number) => `\n[vilano: output truncated, ${dropped} more bytes not kept]`;

/** `path` resolved inside `root`, or null when it would leave it (also through symlinks). */
export function confineTo(root: string, path: string): string | null {
  const target = resolve(root, path);
  const inside = (base: string, p: string) => {
    const rel = relative(base, p);
    return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
  };
  if (!inside(root, target)) return null;
  try {
    if (!inside(realpathSync(root), realpathSync(target))) return null;
  } catch {
    // Not there (yet): the textual check above is what can be said.
  }
  return target;
}

/** A capture in progress: what is kept so far can be read while the stream is still open. */
interface Capture {
  text(): string;
  done: Promise<void>;
}

function captureStream(stream: ReadableStream<Uint8Array>, cap: number, onText?: (text: string) => void): Capture {
  const decoder = new TextDecoder();
  let kept = 0;
  let dropped = 0;
  let text = "";
  const done = (async () => {
    for await (const chunk of stream) {
      const room = cap - kept;
      if (room <= 0) {
        dropped += chunk.byteLength;
        continue;
      }
      const part = chunk.byteLength <= room ? chunk : chunk.subarray(0, room);
      dropped += chunk.byteLength - part.byteLength;
      kept += part.byteLength;
      const decoded = decoder.decode(part, { stream: true });
      text += decoded;
      if (decoded) onText?.(decoded);
    }
    text += decoder.decode();
  })().catch(() => undefined);
  return { text: () => (dropped > 0 ? text + truncationMark(dropped) : text), done };
}

const noCapture: Capture = { text: () => "", done: Promise.resolve() };

/**
 * How long the output may still be read once the process has exited and its group is killed: a
 * grandchild that left the group (setsid) may hold the pipes open, and the op must not wait for it.
 */
const DRAIN_MS = 250;

function killGroup(pid: number): void {
  try {
    signalProcessGroup(pid, "SIGKILL");
  } catch {
    // Not ours to end (EPERM); a group that is gone already is no error.
  }
}

const tail = (text: string, max = 2_000) => (text.length > max ? text.slice(-max) : text);

export async function runProcess(spec: ResolvedExec, signal: AbortSignal, hooks: ExecHooks = {}): Promise<ExecOutcome> {
  const label = `exec "${spec.name}" (${spec.cmd})`;
  if (signal.aborted) return { ok: false, error: { name: "CancelledError", message: `${label} was not started: the run was cancelled`, code: "cancelled", family: "application", retryable: false } };
  if (!existsSync(spec.cwd) || !statSync(spec.cwd).isDirectory()) {
    return {
      ok: false,
      error: {
        name: "ProcessSpawnError",
        message: `${label} could not be started: its working directory ${spec.cwd} does not exist`,
        code: "process_spawn",
        family: "process_spawn",
        retryable: true,
        details: { cmd: spec.cmd, cwd: spec.cwd },
      },
    };
  }
  let proc: Bun.Subprocess<"pipe" | "ignore", "pipe" | "ignore", "pipe" | "ignore">;
  try {
    proc = Bun.spawn([spec.cmd, ...spec.args], {
      cwd: spec.cwd,
      env: { ...spec.env },
      stdin: spec.stdin === null ? "ignore" : "pipe",
      stdout: spec.capture.stdout ? "pipe" : "ignore",
      stderr: spec.capture.stderr ? "pipe" : "ignore",
      // Its own process group: the whole tree it starts can be killed with one signal.
      detached: true,
    });
  } catch (cause) {
    return {
      ok: false,
      error: {
        name: "ProcessSpawnError",
        message: `${label} could not be started: ${(cause as Error)?.message ?? String(cause)}`,
        code: "process_spawn",
        family: "process_spawn",
        retryable: true,
        details: { cmd: spec.cmd, cwd: spec.cwd },
      },
    };
  }
  const pid = proc.pid;
  hooks.started?.(pid);
  let stoppedFor: "timeout" | "cancel" | null = null;
  const stop = (why: "timeout" | "cancel") => {
    stoppedFor ??= why;
    killGroup(pid);
  };
  // Durations are at most 100 years; setTimeout cannot wait past 2^31-1 ms (it would fire at once).
  const timer = spec.timeoutMs === null ? null : setTimeout(() => stop("timeout"), Math.min(spec.timeoutMs, 2_147_483_647));
  const onAbort = () => stop("cancel");
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    if (spec.stdin !== null && proc.stdin && typeof proc.stdin !== "number") {
      try {
        await proc.stdin.write(spec.stdin); // a promise only when the pipe pushed back
        await proc.stdin.end();
      } catch {
        // It exited without reading its input; its exit code says what happened.
      }
    }
    const cap = spec.capture.maxBytes;
    const stdout = proc.stdout && typeof proc.stdout !== "number" ? captureStream(proc.stdout, cap, (t) => hooks.output?.("stdout", t)) : noCapture;
    const stderr = proc.stderr && typeof proc.stderr !== "number" ? captureStream(proc.stderr, cap, (t) => hooks.output?.("stderr", t)) : noCapture;
    const exitCode = await proc.exited;
    // Grandchildren left behind would hold the pipes open (and outlive the op): end them too.
    killGroup(pid);
    await Promise.race([Promise.all([stdout.done, stderr.done]), Bun.sleep(DRAIN_MS)]);
    const [out, err] = [stdout.text(), stderr.text()];
    const signalCode = proc.signalCode === null ? null : String(proc.signalCode);
    // Read whatever the outcome (its group is dead, so nothing writes them any more).
    const artifacts = await readArtifacts(spec, hooks);
    if (stoppedFor === "timeout") {
      return {
        ok: false,
        artifacts,
        error: {
          name: "TimeoutError",
          message: `${label} ran past its timeout of ${formatDuration(spec.timeoutMs!)}; its process tree was killed`,
          code: "timeout",
          family: "timeout",
          retryable: true,
          details: { timeoutMs: spec.timeoutMs, stderr: tail(err) },
        },
      };
    }
    if (stoppedFor === "cancel") {
      return { ok: false, artifacts, error: { name: "CancelledError", message: `${label} was killed: the run was cancelled`, code: "cancelled", family: "application", retryable: false } };
    }
    if (exitCode !== 0 || signalCode !== null) {
      const how = signalCode !== null ? `was killed by ${signalCode}` : `exited with code ${exitCode}`;
      const lastLine = err.trim().split("\n").pop();
      return {
        ok: false,
        artifacts,
        error: {
          name: "ProcessExitError",
          message: `${label} ${how}${lastLine ? `: ${lastLine}` : ""}`,
          code: "process_exit",
          family: "process_exit",
          retryable: true,
          details: { exitCode: signalCode === null ? exitCode : null, signalCode, stderr: tail(err) },
        },
      };
    }
    return { ok: true, result: { exitCode, signalCode, stdout: out, stderr: err, artifacts } };
  } finally {
    if (timer) clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    hooks.ended?.(pid);
  }
}

async function readArtifacts(spec: ResolvedExec, hooks: ExecHooks): Promise<ExecArtifact[]> {
  const found: ExecArtifact[] = [];
  for (const path of spec.capture.artifacts) {
    const target = confineTo(spec.cwd, path);
    if (!target) continue;
    const file = Bun.file(target);
    if (!(await file.exists())) continue;
    const bytes = file.size;
    const truncated = bytes > spec.capture.maxBytes;
    const content = new Uint8Array(await file.slice(0, spec.capture.maxBytes).arrayBuffer());
    hooks.artifact?.(path, content, bytes);
    found.push({ path, bytes, truncated });
  }
  return found;
}
