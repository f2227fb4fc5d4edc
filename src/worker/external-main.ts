/**
 * `vilano worker start`: a worker the user starts by hand against the local daemon, connected over
 * the control API's WebSocket and speaking the same protocol as the managed workers. It runs in
 * the user's terminal with the user's environment, so its output is right there. The daemon cannot
 * kill it: cancellation is cooperative (steps see their AbortSignal), and code that blocks it past
 * a step's deadline only gets it disconnected. With `once` it takes one activation and leaves.
 */
import { createBatcher, unbatch } from "./batching.ts";
import type { FromWorker } from "./protocol.ts";
import { createWorkerCore } from "./worker-main.ts";

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
    const core = createWorkerCore(createBatcher<FromWorker>((payload) => ws.send(JSON.stringify(payload))), {
      onActivate(run) {
        activations++;
        options.say(`running ${run.kind} ${run.name} (${run.id})`);
      },
      onFinish(run, result) {
        options.say(`${run.id}: ${result}`);
        if (options.once && core.active === 0) {
          leaving = true;
          ws.close();
        }
      },
    });
    ws.onmessage = (event) => {
      for (const raw of unbatch(JSON.parse(String(event.data)))) {
        const message = raw as { t?: string; generation?: string };
        if (message.t === "welcome") {
          core.ready(message.generation ?? "", options.once ? { once: true } : {});
          options.say(options.once ? "connected; waiting for one activation" : "connected; waiting for activations (Ctrl-C to leave)");
          continue;
        }
        core.receive(raw);
      }
    };
    ws.onclose = (event) => resolve({ activations, reason: leaving ? "done" : event.reason || `the daemon closed the connection (${event.code})` });
    ws.onerror = () => options.say("the connection to the daemon failed");
  });
}
