/**
 * An external worker (`vilano worker start`) as the pool sees it: a WebSocket instead of a child
 * process. It looks like any worker to the pool, except that it cannot be killed — "kill" closes
 * the connection, and whatever it still sends afterwards is not heard (and would be refused by its
 * fence anyway). It learns the daemon's generation when it connects and must answer with it.
 */
import type { Logger } from "../shared/index.ts";
import { createBatcher, unbatch } from "./batching.ts";
import { FromWorkerSchema, parseMessage, type FromWorker, type ToWorker } from "./protocol.ts";
import type { WorkerExit, WorkerProcess } from "./worker-process.ts";

/** The daemon's end of a connection: the API layer fills it in from its WebSocket. */
export interface WorkerLink {
  send(text: string): void;
  close(): void;
}

export interface ExternalWorker extends WorkerProcess {
  /** A raw message from the connection. */
  receive(text: string): void;
  /** The connection closed. */
  closed(): void;
  /** It asked for one activation only. */
  readonly once: boolean;
}

export function externalWorker(
  link: WorkerLink,
  welcome: { generation: string; maxValueBytes: number },
  logger: Logger,
  handlers: { onReady(): void; onMessage(message: FromWorker): void },
): ExternalWorker {
  const { generation } = welcome;
  let pid = 0;
  let ready = false;
  let once = false;
  let lastHeard = Date.now();
  let open = true;
  const exited = Promise.withResolvers<WorkerExit>();
  const send = createBatcher<ToWorker>((payload) => {
    if (!open) return;
    try {
      link.send(JSON.stringify(payload));
    } catch {
      // The connection is going away; `closed` deals with what it held.
    }
  });

  function receiveOne(raw: unknown): void {
    let message: FromWorker;
    try {
      message = parseMessage(FromWorkerSchema, raw, `external worker ${pid || "(connecting)"}`);
    } catch (error) {
      logger.error(String((error as Error).message));
      return;
    }
    if (message.t === "ready") {
      if (message.generation !== generation) return;
      pid = message.pid;
      once = message.once === true;
      ready = true;
      handlers.onReady();
      return;
    }
    if (ready) handlers.onMessage(message);
  }

  send({ t: "welcome", generation, maxValueBytes: welcome.maxValueBytes });
  return {
    get pid() {
      return pid;
    },
    get lastHeard() {
      return lastHeard;
    },
    get ready() {
      return ready;
    },
    get once() {
      return once;
    },
    get alive() {
      return open;
    },
    send,
    kill() {
      if (!open) return;
      open = false;
      link.close();
    },
    exited: exited.promise,
    receive(text) {
      if (!open) return;
      lastHeard = Date.now();
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch {
        logger.error(`external worker ${pid || "(connecting)"} sent something that is not JSON`);
        return;
      }
      for (const raw of unbatch(payload)) receiveOne(raw);
    },
    closed() {
      open = false;
      exited.resolve({ exitCode: null, signal: null, stderr: [], exitedBy: null, exitedIn: null });
    },
  };
}
