/**
 * `ctx.exec`: a subprocess as a durable op. Like a step it is resolved from history by op key and
 * runs only when not recorded; each attempt's outcome is recorded with the op kind `exec` and, as
 * its meta, the argv, the working directory and the names (never the values) of the variables it
 * was given. Failures are families `process_exit`, `process_spawn` and `timeout`, retried by the
 * op's policy; a failure for good is thrown as `ExecFailedError`. A subprocess is told which attempt
 * of which op of which run it is (`VILANO_EXEC_ATTEMPT`, `VILANO_OP_KEY`, `VILANO_RUN_ID`).
 */
import { isAbsolute, relative } from "node:path";
import { ExecFailedError, parseDuration, toFailureBody, toOptionalJson, VilanoError, type FailureBody, type ResolvedRetryPolicy } from "../shared/index.ts";
import type { ExecSpec } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import type { NextOp } from "./next-op.ts";
import { confineTo, DEFAULT_MAX_CAPTURE_BYTES, runProcess, type ExecArtifact, type ExecEnvironment, type ResolvedExec } from "./exec-process.ts";
import type { RequestedOp } from "./history.ts";
import type { ActivationHost } from "./host.ts";
import { parseStored, RETRY_LATER } from "./op-values.ts";
import type { ReplayScheduler } from "./replay-scheduler.ts";
import { refuseUnknownOptions } from "../sdk/options.ts";
import { RETRY_SHORTHAND, retryPolicyOf } from "./retry-options.ts";

/** Where an attempt's captures are kept, relative to the runtime home. */
export const captureDir = (runId: string, opKey: string, attempt: number) => `captures/${encodeURIComponent(runId)}/${encodeURIComponent(opKey)}.${attempt}`;

/** What a spec may hold; anything else is refused by name rather than dropped. */
const EXEC_OPTIONS = ["name", "key", "cmd", "args", "cwd", "env", "stdin", "timeout", "retry", ...RETRY_SHORTHAND, "capture", "parse"];
const CAPTURE_OPTIONS = ["stdout", "stderr", "artifacts", "maxBytes"];
/** What the runtime tells every subprocess about itself; a spec's `env` may not set them. */
export const EXEC_IDENTITY = ["VILANO_EXEC_ATTEMPT", "VILANO_RUN_ID", "VILANO_OP_KEY"] as const;
const execIdentity = (runId: string, opKey: string, attempt: number): Record<(typeof EXEC_IDENTITY)[number], string> => ({
  VILANO_EXEC_ATTEMPT: String(attempt),
  VILANO_RUN_ID: runId,
  VILANO_OP_KEY: opKey,
});

const bad = (message: string) => new VilanoError("validation_failed", `ctx.exec(): ${message}`);
const isStringArray = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === "string");

/** Checks a spec completely before the op takes a position in history (its name by `next`'s rule for names). */
export function resolveExec(spec: ExecSpec<unknown>, env: ExecEnvironment, checkName: NextOp["checkName"]): ResolvedExec & { retry: ResolvedRetryPolicy } {
  if (!spec || typeof spec !== "object") throw bad("needs a spec { name, cmd, args?, cwd?, env?, stdin?, timeout?, retry?, capture?, parse? }");
  if (typeof spec.name !== "string" || spec.name.trim() === "") throw bad(`needs a non-empty name, got ${JSON.stringify(spec.name)}`);
  checkName("the name given to ctx.exec()", spec.name);
  const where = `exec "${spec.name}"`;
  refuseUnknownOptions(`ctx.exec(): ${where}`, spec, EXEC_OPTIONS);
  if (typeof spec.cmd !== "string" || spec.cmd === "") throw bad(`${where} needs cmd, the program to run (a path or a name in PATH)`);
  if (spec.args !== undefined && !isStringArray(spec.args)) throw bad(`${where}: args must be an array of strings (argv; no shell is used)`);
  if (spec.env !== undefined && (typeof spec.env !== "object" || spec.env === null || !Object.values(spec.env).every((v) => typeof v === "string"))) {
    throw bad(`${where}: env must map names to string values`);
  }
  const reserved = EXEC_IDENTITY.filter((name) => spec.env !== undefined && Object.hasOwn(spec.env, name));
  if (reserved.length > 0) throw bad(`${where}: env may not set ${reserved.join(", ")}: the runtime gives every subprocess its attempt, run id and op key`);
  if (spec.stdin !== undefined && typeof spec.stdin !== "string") throw bad(`${where}: stdin must be a string`);
  if (spec.parse !== undefined && typeof spec.parse !== "function") throw bad(`${where}: parse must be a function of stdout`);
  if (spec.cwd !== undefined && typeof spec.cwd !== "string") throw bad(`${where}: cwd must be a string`);
  const cwd = confineTo(env.workspace, spec.cwd ?? ".");
  if (!cwd) throw bad(`${where}: cwd ${JSON.stringify(spec.cwd)} leaves the workspace; give a path inside it`);
  const capture = spec.capture ?? {};
  if (typeof capture !== "object" || capture === null) throw bad(`${where}: capture must be { stdout?, stderr?, artifacts?, maxBytes? }`);
  refuseUnknownOptions(`ctx.exec(): ${where} capture`, capture, CAPTURE_OPTIONS);
  const artifacts = capture.artifacts ?? [];
  if (!isStringArray(artifacts)) throw bad(`${where}: capture.artifacts must be an array of paths`);
  for (const path of artifacts) {
    if (isAbsolute(path) || !confineTo(cwd, path)) throw bad(`${where}: artifact ${JSON.stringify(path)} must be a relative path inside the working directory`);
  }
  const cap = env.maxValueBytes ?? Number.POSITIVE_INFINITY;
  const maxBytes = capture.maxBytes ?? Math.min(env.maxCaptureBytes ?? DEFAULT_MAX_CAPTURE_BYTES, cap);
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw bad(`${where}: capture.maxBytes must be a whole number of bytes`);
  // Refused rather than lowered: a build that asked for 1 GiB of output and silently got 4 MiB
  // would look complete when it was not.
  if (maxBytes > cap) {
    throw bad(`${where}: capture.maxBytes is ${maxBytes} bytes, more than the limit of ${cap} bytes (VILANO_MAX_VALUE_BYTES): captures and artifacts are values the runtime keeps; ask for at most that`);
  }
  return {
    name: spec.name,
    cmd: spec.cmd,
    args: spec.args ?? [],
    cwd,
    env: { ...env.baseEnv, ...spec.env },
    stdin: spec.stdin ?? null,
    timeoutMs: spec.timeout === undefined ? null : parseDuration(spec.timeout, `timeout of ${where}`),
    capture: { stdout: capture.stdout !== false, stderr: capture.stderr !== false, artifacts, maxBytes },
    retry: retryPolicyOf(`ctx.exec(): ${where}`, spec),
  };
}

export interface ExecParts {
  runId: string;
  next: NextOp;
  state: ActivationState;
  scheduler: ReplayScheduler;
  host: ActivationHost;
  enter(member: string): void;
}

export function createExec(parts: ExecParts): (spec: ExecSpec<unknown>) => Promise<unknown> {
  const { runId, next, state, scheduler, host } = parts;

  async function attempt(op: RequestedOp, resolved: ResolvedExec & { retry: ResolvedRetryPolicy }, spec: ExecSpec<unknown>, n: number): Promise<unknown> {
    const stored = captureDir(runId, op.opKey, n);
    const withIdentity = { ...resolved, env: { ...resolved.env, ...execIdentity(runId, op.opKey, n) } };
    const outcome = await runProcess(withIdentity, host.signal, {
      started: (pid) => host.execStarted?.(pid),
      ended: (pid) => host.execEnded?.(pid),
      output: (stream, text) => host.execOutput?.({ opKey: op.opKey, attempt: n, stream, text }),
      artifact: (path, content, bytes) => host.execArtifact?.({ opKey: op.opKey, attempt: n, path, content, bytes }),
    });
    // A cancelled run records nothing more.
    state.guard();
    const meta = JSON.stringify({
      cmd: resolved.cmd,
      args: resolved.args,
      cwd: relative(host.exec!.workspace, resolved.cwd) || ".",
      env: Object.keys(spec.env ?? {}),
      captures: stored,
    });
    const keptAs = (artifacts: readonly ExecArtifact[]) => artifacts.map((a) => ({ ...a, stored: `${stored}/artifacts/${a.path}` }));
    // A failed attempt names the artifacts it left (kept under the home like a success's) in its details.
    let failure: FailureBody | undefined = outcome.ok ? undefined : withArtifacts(outcome.error, resolved.capture.artifacts.length > 0 ? keptAs(outcome.artifacts ?? []) : null);
    if (outcome.ok) {
      let value: unknown = { ...outcome.result, artifacts: keptAs(outcome.result.artifacts) };
      let json: string | null = null;
      try {
        if (spec.parse) value = spec.parse(outcome.result.stdout);
        json = toOptionalJson(value, `the result of exec "${op.name}"`);
      } catch (error) {
        failure = toFailureBody(error);
      }
      if (!failure) {
        const sent = await state.reportOrRefused({ type: "step_completed", kind: "exec", opKey: op.opKey, seq: op.seq, name: op.name, attempt: n, result: json, meta });
        if (!("refused" in sent)) return parseStored(json);
        failure = sent.refused;
      }
    }
    const error = failure!;
    const res = await state.report({ type: "step_failed", kind: "exec", opKey: op.opKey, seq: op.seq, name: op.name, attempt: n, error, retry: resolved.retry, meta });
    if (res.outcome === "retry") return RETRY_LATER;
    throw new ExecFailedError(op.name, error);
  }

  return async function exec(spec) {
    parts.enter("ctx.exec()");
    if (!host.exec) throw new VilanoError("wrong_context", "ctx.exec() is not available in this runtime");
    // Made before `cwd` is checked, so the check sees the links inside it for what they are.
    host.exec.ensureWorkspace?.();
    const resolved = resolveExec(spec, host.exec, next.checkName);
    const { op, recorded } = next("exec", resolved.name, spec.key);
    let n = 1;
    if (recorded) {
      if (recorded.status === "completed" || recorded.status === "failed") {
        await scheduler.turn(recorded);
        if (recorded.status === "completed") return parseStored(recorded.result);
        throw new ExecFailedError(resolved.name, JSON.parse(recorded.error!) as FailureBody);
      }
      if (recorded.status !== "retry_ready") return state.wait();
      n = recorded.attempt + 1;
    }
    const value = await state.track(attempt(op, resolved, spec, n));
    return value === RETRY_LATER ? state.wait() : value;
  };
}

/** `error` with the attempt's artifacts in its details (when the spec declared any). */
function withArtifacts(error: FailureBody, artifacts: readonly (ExecArtifact & { stored: string })[] | null): FailureBody {
  if (artifacts === null) return error;
  const details = typeof error.details === "object" && error.details !== null ? error.details : {};
  return { ...error, details: { ...details, artifacts } };
}
