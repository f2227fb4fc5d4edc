/**
 * Registration in a worker: a project's code is imported (its top-level code runs) in a process of
 * its own, with a time limit, and the worker says what it defines. Top-level code that throws,
 * exits or never finishes gives a clear error naming the file; the daemon itself never imports it.
 */
import * as v from "valibot";
import { formatDuration, isErrorCode, VilanoError, type Logger } from "../shared/index.ts";
import type { CodeInfo, CodeRef } from "../core/index.ts";
import { CodeInfoSchema } from "./protocol.ts";
import { spawnWorker } from "./worker-process.ts";

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
      else answer.reject(new VilanoError(isErrorCode(m.error.code) ? m.error.code : "validation_failed", m.error.message, { details: m.error.details }));
    },
  });
  worker.send({ t: "describe", q: 1, code: options.code });
  const where = () => (importing ? `importing ${importing}` : "starting to import the project");
  const timer = setTimeout(() => {
    answer.reject(
      new VilanoError("validation_failed", `${where()} did not finish within ${formatDuration(limit)}: the project's top-level code never settles (or takes too long); nothing was registered`, {
        hint: "top-level code runs at registration: move slow or waiting work into a step",
      }),
    );
    worker.kill();
  }, limit);
  void worker.exited.then((exit) => {
    if (answered) return;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    const stderr = exit.stderr.length > 0 ? `; its stderr: ${exit.stderr.join(" | ")}` : "";
    answer.reject(new VilanoError("validation_failed", `the project's process ${how} while ${where()} (top-level code must not exit)${stderr}; nothing was registered`));
  });
  try {
    const value = await answer.promise;
    const parsed = v.safeParse(CodeInfoSchema, value);
    if (!parsed.success) throw new VilanoError("internal", "the worker described the project in a shape this daemon does not know");
    return parsed.output;
  } finally {
    clearTimeout(timer);
    worker.kill();
    await worker.exited;
  }
}
