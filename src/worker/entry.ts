/** Worker mode when running from source: `bun src/worker/entry.ts --generation G --parent PID`. */
import { runWorkerProcess } from "./worker-main.ts";

runWorkerProcess(process.argv.slice(2));
