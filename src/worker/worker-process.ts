/**
 * One worker process, seen from the daemon: spawned in its own process group (so a hard stop kills
 * everything it started), with a clean environment, in the directory the pool chose (its code's
 * shared folder, or the activation's own for a worker started for one activation).
 * Its stdout and stderr go to the daemon's log, tagged with its pid; the last stderr lines are kept
 * to explain a crash. Messages are checked against the protocol before anyone sees them.
 */
import { readLines, signalChild, signalProcessGroup, type Logger } from "../shared/index.ts";
import { createBatcher, sendingEachOnFailure, unbatch } from "./batching.ts";
import { parseExitMarker } from "./exit-attribution.ts";
import { FromWorkerSchema, parseMessage, type FromWorker, type ToWorker } from "./protocol.ts";
import { workerCommand } from "./worker-command.ts";

const STDERR_TAIL_LINES = 12;

export interface WorkerExit {
  exitCode: number | null;
  signal: string | null;
  /** The last lines the worker wrote to stderr. */
  stderr: string[];
  /** The activation whose code called `process.exit()`, when the worker said so before exiting. */
  exitedBy: number | null;
  /** The step that was running in it then, if one was. */
  exitedIn: string | null;
}

export interface WorkerProcess {
  readonly pid: number;
  /** When the worker last sent anything (ms since epoch). */
  readonly lastHeard: number;
  readonly ready: boolean;
  /** False as soon as the process has exited (before its output is read to the end). */
  readonly alive: boolean;
  send(message: ToWorker): void;
  /** SIGKILL to the worker's whole process group. */
  kill(): void;
  /** Resolves once the process has exited and its output is read to the end. */
  readonly exited: Promise<WorkerExit>;
}

export interface SpawnWorkerOptions {
  generation: string;
  /** Passed on as `--live-executions` (the worker's own default when absent). */
  liveExecutions?: number;
  /** The daemon's value cap, passed on as `--max-value-bytes`: the worker refuses larger values before sending them. */
  maxValueBytes?: number;
  env: Record<string, string>;
  cwd: string;
  /** The OS user to run as (the daemon is root); absent: the daemon's own. */
  user?: { uid: number; gid: number };
  logger: Logger;
  onMessage(message: FromWorker): void;
  /** A message that could not be sent alone while the worker lives (too large for the channel); its batch's others went. */
  onUnsent?(message: ToWorker, error: unknown): void;
}

export function spawnWorker(options: SpawnWorkerOptions): WorkerProcess {
  const { logger } = options;
  const outbox: ToWorker[] = [];
  const stderrTail: string[] = [];
  let ready = false;
  let lastHeard = Date.now();
  let exitedBy: number | null = null;
  let exitedIn: string | null = null;
  let dead = false;

  const live = options.liveExecutions === undefined ? [] : ["--live-executions", String(options.liveExecutions)];
  const cap = options.maxValueBytes === undefined ? [] : ["--max-value-bytes", String(options.maxValueBytes)];
  const proc = Bun.spawn([...workerCommand(), "--generation", options.generation, "--parent", String(process.pid), ...live, ...cap], {
    cwd: options.cwd,
    env: options.env,
    // Bun sets the ids in the child before it runs anything, and drops root's supplementary groups.
    ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    // Its own process group: a hard stop kills the worker and whatever it spawned, in one signal.
    detached: true,
    serialization: "json",
    ipc(payload) {
      lastHeard = Date.now();
      for (const raw of unbatch(payload)) receive(raw);
    },
  });
  const receive = (raw: unknown) => {
    let message: FromWorker;
    try {
      message = parseMessage(FromWorkerSchema, raw, `worker ${proc.pid}`);
    } catch (error) {
      logger.error(String((error as Error).message));
      return;
    }
    if (message.t === "ready") {
      // A worker of another daemon generation is never heard.
      if (message.generation !== options.generation) return;
      ready = true;
      for (const queued of outbox.splice(0)) transmit(queued);
      return;
    }
    if (ready) options.onMessage(message);
  };
  // A batch that cannot go (one message in it too large to serialise) goes again one message at a
  // time, so only that message is lost and the pool says what it costs (unsent-to-worker.ts).
  const transmit = createBatcher<ToWorker>(
    sendingEachOnFailure<ToWorker>(
      (payload) => proc.send(payload),
      (message, error) => {
        // The channel closed: the exit handler deals with what the worker held.
        if (dead) return;
        options.onUnsent?.(message, error);
      },
    ),
  );
  const tag = `worker ${proc.pid}`;
  const onOut = (line: string) => logger.info(`[${tag}] ${line}`);
  const onErr = (line: string) => {
    const marker = parseExitMarker(line);
    if (marker !== null) {
      exitedBy = marker.a;
      exitedIn = marker.opKey;
      return;
    }
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    logger.warn(`[${tag}] ${line}`);
  };
  // A last line without a newline (written just before dying) counts too.
  const output = Promise.all([
    readLines(proc.stdout, onOut).then((rest) => rest && onOut(rest)),
    readLines(proc.stderr, onErr).then((rest) => rest && onErr(rest)),
  ]).catch(() => undefined);

  const exited = proc.exited.then(async (exitCode) => {
    dead = true;
    // Output is read to its end, so the exit marker (written just before exiting) is seen.
    await Promise.race([output, Bun.sleep(1_000)]);
    const signal = proc.signalCode === null ? null : String(proc.signalCode);
    return { exitCode: signal ? null : exitCode, signal, stderr: [...stderrTail], exitedBy, exitedIn };
  });

  return {
    pid: proc.pid,
    get lastHeard() {
      return lastHeard;
    },
    get ready() {
      return ready;
    },
    get alive() {
      return !dead;
    },
    send(message) {
      if (dead) return;
      if (!ready) {
        outbox.push(message);
        return;
      }
      transmit(message);
    },
    kill() {
      if (dead) return;
      try {
        if (signalProcessGroup(proc.pid, "SIGKILL")) return;
      } catch {
        // EPERM: fall back on the child itself
      }
      signalChild(proc, "SIGKILL");
    },
    exited,
  };
}
