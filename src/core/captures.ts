/**
 * Where the output of `ctx.exec` subprocesses goes on the daemon's side: appended, as it comes,
 * to capture files under the runtime home (`captures/<run>/<op key>.<attempt>/stdout|stderr`, and
 * `artifacts/`), and handed to whoever watches the run live (`run logs --follow`). Workers cap what
 * they send, so the files are capped too. Without a root (an embedded runtime) only watchers hear it.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { captureDir, truncationMark, type ExecArtifactFile, type ExecOutputChunk } from "../engine/index.ts";

export interface LiveOutput extends ExecOutputChunk {
  runId: string;
  at: number;
}

export interface CaptureSink {
  output(runId: string, chunk: ExecOutputChunk): void;
  artifact(runId: string, file: ExecArtifactFile): void;
  /** Hears the output of one run's subprocesses as it comes; returns the way to stop. */
  watch(runId: string, listener: (output: LiveOutput) => void): () => void;
}

export function createCaptureSink(home: string | null, onError: (error: unknown) => void = () => {}): CaptureSink {
  const watchers = new Map<string, Set<(output: LiveOutput) => void>>();
  const made = new Set<string>();
  const folder = (runId: string, opKey: string, attempt: number) => {
    const dir = join(home!, captureDir(runId, opKey, attempt));
    if (!made.has(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      made.add(dir);
    }
    return dir;
  };
  return {
    output(runId, chunk) {
      if (home !== null) {
        try {
          appendFileSync(join(folder(runId, chunk.opKey, chunk.attempt), chunk.stream), chunk.text, { mode: 0o600 });
        } catch (error) {
          onError(error);
        }
      }
      const listeners = watchers.get(runId);
      if (listeners) for (const listener of listeners) listener({ ...chunk, runId, at: Date.now() });
    },
    artifact(runId, file) {
      if (home === null) return;
      try {
        // The path comes from a worker, which runs user code: it must stay inside the artifacts folder.
        const artifacts = join(folder(runId, file.opKey, file.attempt), "artifacts");
        const target = resolve(artifacts, file.path);
        const rel = relative(artifacts, target);
        if (rel === "" || rel === ".." || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
          throw new Error(`artifact path ${JSON.stringify(file.path)} of ${file.opKey} leaves its capture folder; not written`);
        }
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, file.content, { mode: 0o600 });
        if (file.bytes > file.content.byteLength) appendFileSync(target, truncationMark(file.bytes - file.content.byteLength));
      } catch (error) {
        onError(error);
      }
    },
    watch(runId, listener) {
      let set = watchers.get(runId);
      if (!set) watchers.set(runId, (set = new Set()));
      set.add(listener);
      return () => {
        set!.delete(listener);
        if (set!.size === 0) watchers.delete(runId);
      };
    },
  };
}
