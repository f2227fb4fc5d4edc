/**
 * A project of fixture code, run the two ways a runtime runs code: its definitions imported into
 * this process, or its code in worker processes. `describe.each(runtimeModes(project))` runs a
 * file's tests both ways; each mode opens a runtime with the options given, and every runtime
 * opened is closed after the file's tests.
 */
import { afterAll } from "bun:test";
import { join } from "node:path";
import type { Runtime, RuntimeOptions } from "../../src/embedded/index.ts";
import { installSdkModule } from "../../src/project/index.ts";
import { createLogger } from "../../src/shared/index.ts";
import { createRuntime } from "./stores.ts";

export type OpenRuntime = (options?: RuntimeOptions) => Promise<Runtime>;

/** `project` holds its code in `src/flows.ts`; `workers` is the pool's size in the workers mode. */
export function runtimeModes(project: string, workers = 2): readonly (readonly ["in-process" | "workers", OpenRuntime])[] {
  const logger = createLogger("silent");
  const opened: Runtime[] = [];
  afterAll(async () => {
    for (const rt of opened.splice(0)) await rt.close();
  });
  const kept = async (opening: Promise<Runtime>) => {
    const rt = await opening;
    opened.push(rt);
    return rt;
  };
  const inProcess: OpenRuntime = async (options = {}) => {
    installSdkModule();
    const definitions = Object.values(await import(join(project, "src", "flows.ts")));
    return kept(createRuntime({ definitions, logger, ...options }));
  };
  const inWorkers: OpenRuntime = (options = {}) => kept(createRuntime({ workers, project, logger, ...options }));
  return [
    ["in-process", inProcess],
    ["workers", inWorkers],
  ];
}
