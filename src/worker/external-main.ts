/**
 * `vilano worker start`: a worker the user starts by hand against the local daemon, connected over
 * the control API's WebSocket and speaking the same protocol as the managed workers. It runs in
 * the user's terminal with the user's environment, so its output is right there. The daemon cannot
 * kill it: cancellation is cooperative (steps see their AbortSignal), and code that blocks it past
 * a step's deadline only gets it disconnected. With `once` it takes one activation and leaves.
 */
import { createBatcher, sendingEachOnFailure, unbatch } from "./batching.ts";
import type { FromWorker } from "./protocol.ts";
import { createWorkerCore, type WorkerCore } from "./worker-main.ts";

export interface ExternalWorkerOptions {
  /** `ws://127.0.0.1:<port>/v1/workers/connect` */
  url: string;
  token: string;
  once: boolean;
  /** Progress for the person watching (connected, each activation). */
  say(line: string): void;
}

/** Runs until the daemon closes the connection (or, with `once`, the one activation is done). */
export function runExternalWorker(options: ExternalWorkerOptions): Promise<{ activations: number; reason: string }> {
  return new Promise((resolve) => {
    let activations = 0;
    let leaving = false;
    const ws = new WebSocket(options.url, { headers: { "x-vilano-token": options.token } } as unknown as string[]);
    // As in a managed worker: a message that cannot be serialised or sent fails alone (its op's
    // attempt, its activation's result), never the rest of its flush.
    const deliver = sendingEachOnFailure<FromWorker>((payload) => ws.send(JSON.stringify(payload)), (message, error) => core?.unsent(message, error));
    /** Made when the daemon's welcome says its value cap, which the worker checks before sending. */
    let core: WorkerCore | undefined;
    const startCore = (maxValueBytes: number | undefined): WorkerCore => {
      const made: WorkerCore = createWorkerCore(
        createBatcher<FromWorker>(deliver),
        {
          onActivate(run) {
            activations++;
            options.say(`running ${run.kind} ${run.name} (${run.id})`);
          },
          onFinish(run, result) {
            options.say(`${run.id}: ${result}`);
            if (options.once && made.active === 0) {
              leaving = true;
              ws.close();
            }
          },
        },
        maxValueBytes === undefined ? {} : { maxValueBytes },
      );
      return made;
    };
    ws.onmessage = (event) => {
      for (const raw of unbatch(JSON.parse(String(event.data)))) {
        const message = raw as { t?: string; generation?: string; maxValueBytes?: unknown };
        if (message.t === "welcome") {
          core ??= startCore(typeof message.maxValueBytes === "number" ? message.maxValueBytes : undefined);
          core.ready(message.generation ?? "", options.once ? { once: true } : {});
          options.say(options.once ? "connected; waiting for one activation" : "connected; waiting for activations (Ctrl-C to leave)");
          continue;
        }
        core?.receive(raw);
      }
    };
    ws.onclose = (event) => resolve({ activations, reason: leaving ? "done" : event.reason || `the daemon closed the connection (${event.code})` });
    ws.onerror = () => options.say("the connection to the daemon failed");
  });
}
