/**
 * Registration in a worker: a project's code is imported (its top-level code runs) in a worker,
 * with a time limit, and the worker says what it defines. Top-level code that throws, exits or
 * never finishes gives a clear error naming the file; the daemon itself never imports it.
 * `describeCode` does it in a one-shot process (the embedded runtime, before its pool exists); the
 * daemon asks its pool (pool-describe.ts), with the errors worded here.
 */
import * as v from "valibot";
import { formatDuration, isErrorCode, VilanoError, type FailureBody, type Logger } from "../shared/index.ts";
import type { CodeInfo, CodeRef } from "../core/index.ts";
import { CodeInfoSchema } from "./protocol.ts";
import { spawnWorker, type WorkerExit } from "./worker-process.ts";

export interface DescribeOptions {
  code: CodeRef;
  env: Record<string, string>;
  cwd: string;
  /** The OS user to import as (the project's `[worker] user`). */
  user?: { uid: number; gid: number };
  logger: Logger;
  /** How long importing the code may take (default 10 s). */
  timeLimitMs?: number;
}

export async function describeCode(options: DescribeOptions): Promise<CodeInfo> {
  const limit = options.timeLimitMs ?? 10_000;
  let importing: string | undefined;
  let answered = false;
  const answer = Promise.withResolvers<unknown>();
  const worker = spawnWorker({
    generation: crypto.randomUUID(),
    env: options.env,
    cwd: options.cwd,
    ...(options.user ? { user: options.user } : {}),
    logger: options.logger.withTag("import"),
    onMessage(m) {
      if (m.t === "importing") importing = m.file;
      if (m.t !== "answer") return;
      answered = true;
      if (m.ok) answer.resolve(m.value);
      else answer.reject(importFailed(m.error));
    },
  });
  worker.send({ t: "describe", q: 1, code: options.code });
  const timer = setTimeout(() => {
    answer.reject(importTimedOut(importing, limit));
    worker.kill();
  }, limit);
  void worker.exited.then((exit) => {
    if (!answered) answer.reject(importExited(exit, importing));
  });
  try {
    return codeInfoOf(await answer.promise);
  } finally {
    clearTimeout(timer);
    worker.kill();
    await worker.exited;
  }
}

/*
 * The errors of a registration, whichever process imported the code (a one-shot one here, or a
 * pooled worker kept for the code's first activation: pool-describe.ts), worded the same way.
 */
const where = (importing: string | undefined) => (importing ? `importing ${importing}` : "starting to import the project");

/** The import did not finish within the limit (its process is killed by the caller). */
export function importTimedOut(importing: string | undefined, limitMs: number): VilanoError {
  return new VilanoError("validation_failed", `${where(importing)} did not finish within ${formatDuration(limitMs)}: the project's top-level code never settles (or takes too long); nothing was registered`, {
    hint: "top-level code runs at registration: move slow or waiting work into a step",
  });
}

/** The importing process ended before it answered. */
export function importExited(exit: WorkerExit, importing: string | undefined): VilanoError {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
  const stderr = exit.stderr.length > 0 ? `; its stderr: ${exit.stderr.join(" | ")}` : "";
  return new VilanoError("validation_failed", `the project's process ${how} while ${where(importing)} (top-level code must not exit)${stderr}; nothing was registered`);
}

/** The worker answered that the code could not be imported or checked (it threw, or an export is wrong). */
export function importFailed(error: FailureBody): VilanoError {
  return new VilanoError(isErrorCode(error.code) ? error.code : "validation_failed", error.message, { details: error.details });
}

/** What the worker said the code defines, checked. */
export function codeInfoOf(value: unknown): CodeInfo {
  const parsed = v.safeParse(CodeInfoSchema, value);
  if (!parsed.success) throw new VilanoError("internal", "the worker described the project in a shape this daemon does not know");
  return parsed.output;
}
