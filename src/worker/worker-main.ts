/**
 * Worker mode: the child side of the pool. It imports project code (never the daemon), runs the
 * activations the pool hands it with the replay engine, and reports every op and result, each with
 * its lease fence. It answers `describe` (import a project and say what it defines) and `key` (a
 * service's key for a key input), which need user code. The same core serves a managed worker
 * (IPC, started by the pool) and an external one (`vilano worker start`, over a WebSocket).
 */
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { computeKey, createLiveExecutions, type ActivationHost, type ExecEnvironment, type WorkflowResume } from "../engine/index.ts";
// The core files a worker needs, not the core's barrel: that one brings the kernel and both stores,
// which a worker never uses (scripts/import-direction.ts, CONFINED, keeps it so).
import { describeDefinitions, type CodeRef } from "../core/catalog.ts";
import { indexDefinitions, type Definitions } from "../core/definitions.ts";
import { lazyWorkspace } from "../core/workspaces.ts";
import { runActivationCode } from "../core/run-activation.ts";
import { loadDefinitions, MANIFEST_FILE, parseManifest } from "../project/index.ts";
import { isErrorCode, refuseOverCap, resultWithinLimit, toFailureBody, VilanoError, withBoundedFailure, type ActivationResult, type LiveOutcome, type OpCommand, type OpResolution } from "../shared/index.ts";
import { armParentDeath } from "./parent-death.ts";
import { createBatcher, sendingEachOnFailure, unbatch } from "./batching.ts";
import { sendFailure, unsentReport, unsentResult } from "./outgoing-values.ts";
import { installExitAttribution, runAsActivation } from "./exit-attribution.ts";
import { parseMessage, ToWorkerSchema, type FromWorker, type ToWorker } from "./protocol.ts";

/** How often a worker holding activations says it is alive; faster while a timed step runs. */
const HEARTBEAT_MS = 1_000;
const TIMED_HEARTBEAT_MS = 50;
/** How long code blocked only on asks waits for a live reply before parking (a reply crosses two processes). */
const LIVE_GRACE_MS = 25;

interface Live {
  runId: string;
  /** For naming values in errors the way the kernel does. */
  run: { name: string; kind: string };
  fence: number;
  controller: AbortController;
  deliver?: (opKey: string, outcome: LiveOutcome) => void;
}

/** A managed worker: started by the pool with IPC, dies with the daemon. */
export function runWorkerProcess(args: readonly string[]): void {
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (typeof process.send !== "function") {
    process.stderr.write("vilano worker mode is started by the daemon's pool, not by hand; see `vilano worker start`\n");
    process.exit(2);
  }
  armParentDeath(Number(arg("--parent")));
  installExitAttribution();
  // The channel is the runtime's, not user code's: what the worker sends goes through the checks
  // below (value caps, one bad message failing alone), so code cannot push a giant message past them.
  // The socket's descriptor stays open in the process (see docs/decisions.md).
  const ipcSend = process.send.bind(process);
  Reflect.deleteProperty(process, "send");
  const live = arg("--live-executions");
  const cap = arg("--max-value-bytes");
  const deliver = sendingEachOnFailure<FromWorker>((payload) => ipcSend(payload), (message, error) => core.unsent(message, error));
  const batched = createBatcher<FromWorker>(deliver);
  const core: WorkerCore = createWorkerCore(batched, {}, {
    ...(live === undefined ? {} : { liveExecutions: Number(live) }),
    ...(cap === undefined ? {} : { maxValueBytes: Number(cap) }),
  });
  process.on("message", (payload: unknown) => {
    for (const raw of unbatch(payload)) core.receive(raw);
    // The acks of the activations just read go out now, on the IPC, before any of their code runs
    // (it runs from a later microtask and may never yield): the pool must know they were read.
    batched.flush();
  });
  core.ready(arg("--generation") ?? "");
}

export interface WorkerEvents {
  /** An activation was handed over (external workers print it). */
  onActivate?(run: { id: string; name: string; kind: string }): void;
  /** An activation's result was sent. */
  onFinish?(run: { id: string; name: string }, result: string): void;
}

export interface WorkerCore {
  receive(raw: unknown): void;
  /**
   * A message could not be sent (the transport threw): a report fails its op's attempt, a result
   * goes again as the failure it caused, a lost recorded value exits the worker (the run replays).
   */
  unsent(message: FromWorker, error: unknown): void;
  /** Says the worker is ready (with the daemon generation it was told). */
  ready(generation: string, extra?: { once?: boolean }): void;
  /** How many activations are running now. */
  readonly active: number;
}

export interface WorkerCoreOptions {
  liveExecutions?: number;
  /** The daemon's value cap (VILANO_MAX_VALUE_BYTES): larger values are refused here, before they are sent. */
  maxValueBytes?: number;
}

/** The transport-free worker: messages in through `receive`, out through `send`. */
export function createWorkerCore(send: (message: FromWorker) => void, events: WorkerEvents = {}, options: WorkerCoreOptions = {}): WorkerCore {
  const cap = options.maxValueBytes ?? Number.POSITIVE_INFINITY;
  // User code that leaves a promise rejected or throws from a timer must not take the other
  // activations of this worker down with it: say so on stderr (the daemon's log) and go on.
  process.on("unhandledRejection", (reason) => console.error("vilano worker: unhandled rejection in user code:", reason));
  process.on("uncaughtException", (error) => console.error("vilano worker: uncaught exception in user code:", error));
  // Subprocesses start from what this worker started with: the clean base the pool gave it, in the
  // activation's own directory (or, when the daemon names none — an external worker — this one's).
  let exec: ExecEnvironment = {
    workspace: process.cwd(),
    baseEnv: Object.freeze({ ...(process.env as Record<string, string>) }),
    ...(cap === Number.POSITIVE_INFINITY ? {} : { maxValueBytes: cap }),
  };
  const execFor = (m: Extract<ToWorker, { t: "activate" }>): ExecEnvironment => {
    if (m.workspace === undefined) return exec;
    const where = m.workspace;
    return { ...exec, workspace: where, ensureWorkspace: lazyWorkspace(where, m.code.dir, (error) => console.error(`vilano worker: could not make the workspace ${where}:`, error)) };
  };
  const code = new Map<string, Promise<Definitions>>();
  const live = new Map<number, Live>();
  const calls = new Map<number, { resolve: (res: OpResolution) => void; reject: (error: unknown) => void }>();
  let nextCall = 1;
  let timedSteps = 0;
  let lastSent = 0;
  /** Suspended workflow executions kept here, so the pool's next activation of their run resumes them. */
  const parkedRuns = createLiveExecutions<WorkflowResume, ActivationResult>(options.liveExecutions);

  const loadCode = (ref: CodeRef, onImport?: (file: string) => void): Promise<Definitions> => {
    let loading = code.get(ref.id);
    if (!loading) {
      loading = (async () => {
        const manifest = parseManifest(readFileSync(join(ref.dir, MANIFEST_FILE), "utf8"), `${ref.id} manifest`);
        const { workflows, services } = await loadDefinitions(ref.dir, manifest, onImport);
        return indexDefinitions([...workflows, ...services]);
      })();
      // A failed import is not cached: the next request tries again (and fails the same clear way).
      loading.catch(() => code.delete(ref.id));
      code.set(ref.id, loading);
    }
    return loading;
  };

  const beat = setInterval(() => {
    if (live.size === 0) return;
    const now = Date.now();
    if (timedSteps > 0 || now - lastSent >= HEARTBEAT_MS) {
      lastSent = now;
      send({ t: "hb" });
    }
  }, TIMED_HEARTBEAT_MS);
  beat.unref();

  async function activate(m: Extract<ToWorker, { t: "activate" }>): Promise<void> {
    const { a, fence, run, ops, turn } = m;
    const entry: Live = { runId: run.id, run: { name: run.name, kind: run.kind }, fence, controller: new AbortController() };
    live.set(a, entry);
    // Read: said at once, so a worker blocked by this activation's code is known to hold it (a
    // loop before its first op says nothing else). Flushed by the transport before the code runs.
    send({ t: "started", a });
    events.onActivate?.({ id: run.id, name: run.name, kind: run.kind });
    /** The step whose attempt just ended and whose `step_end` is not said yet: its report, sent in this tick, says it. */
    let unsaidEnd: string | null = null;
    const host: ActivationHost = {
      report: (reported: OpCommand) =>
        new Promise<OpResolution>((resolve, reject) => {
          const cmd = withBoundedFailure(reported);
          // Thrown here, the refusal rejects the report: nothing of the value leaves the worker.
          refuseOverCap(cmd, cap);
          const c = nextCall++;
          calls.set(c, { resolve, reject });
          if (unsaidEnd === cmd.opKey && endsStep(cmd)) unsaidEnd = null;
          send({ t: "report", a, c, fence, cmd });
        }),
      post: (cmd) => {
        refuseOverCap(cmd, cap);
        send({ t: "post", a, fence, cmd });
      },
      now: Date.now,
      printLog: (_runId, message, fields) => {
        // Its record went first and passed the cap; the fields go as the plain data they were
        // then, so getters of user objects do not run again while the line is being sent.
        const plain = fields === undefined ? undefined : plainFields(fields);
        send({ t: "log", a, message, ...(plain === undefined ? {} : { fields: plain }) });
      },
      signal: entry.controller.signal,
      receiveOutcomes: (deliver) => {
        entry.deliver = deliver;
      },
      liveGraceMs: LIVE_GRACE_MS,
      sleepLate: (lateMs) => send({ t: "sleep_late", ms: lateMs }),
      settleLate: (result) => send({ t: "late", a, fence, result: resultWithinLimit(result, cap, entry.run) }),
      stepStarted: (step) => {
        if (step.timeoutMs !== null) timedSteps++;
        send({ t: "step", a, opKey: step.opKey, seq: step.seq, name: step.name, attempt: step.attempt, timeoutMs: step.timeoutMs, retry: step.retry });
      },
      stepEnded: (opKey, timed) => {
        if (timed) timedSteps--;
        // The attempt's outcome is reported at once (same tick), and the pool ends a step when it
        // reads the step's report: `step_end` goes only if no report of it followed (the activation
        // was stopped, or the outcome was refused before it could go) — one message less a step.
        if (unsaidEnd !== null) send({ t: "step_end", a, opKey: unsaidEnd });
        unsaidEnd = opKey;
        queueMicrotask(() => {
          if (unsaidEnd !== opKey) return;
          unsaidEnd = null;
          send({ t: "step_end", a, opKey });
        });
      },
      exec: execFor(m),
      execStarted: (pid) => send({ t: "exec_start", a, pid }),
      execEnded: (pid) => send({ t: "exec_end", a, pid }),
      execOutput: (chunk) => send({ t: "exec_output", a, ...chunk }),
      execArtifact: (file) =>
        send({ t: "exec_artifact", a, opKey: file.opKey, attempt: file.attempt, path: file.path, content: Buffer.from(file.content).toString("base64"), bytes: file.bytes }),
    };
    let result;
    try {
      const definitions = await loadCode(m.code);
      result = await runAsActivation(a, () => runActivationCode(definitions, m.code.id, { run, ops, turn }, host, parkedRuns));
    } catch (error) {
      // The code could not even be loaded: the run fails with the reason, like any failed activation.
      result = { type: "failed" as const, error: { ...toFailureBody(error), retryable: false } };
    }
    live.delete(a);
    result = resultWithinLimit(result, cap, entry.run);
    send({ t: "finish", a, fence, result, live: { ...parkedRuns.stats } });
    events.onFinish?.({ id: run.id, name: run.name }, result.type);
  }

  async function answer(q: number, work: () => Promise<unknown>): Promise<void> {
    try {
      send({ t: "answer", q, ok: true, value: await work() });
    } catch (error) {
      send({ t: "answer", q, ok: false, error: toFailureBody(error) });
    }
  }

  function receive(raw: unknown): void {
    const m = parseMessage(ToWorkerSchema, raw, "the daemon");
    switch (m.t) {
      case "welcome":
        return;
      case "activate":
        void activate(m);
        return;
      case "reply": {
        const call = calls.get(m.c);
        if (!call) return;
        calls.delete(m.c);
        if (m.ok) call.resolve(m.res as OpResolution);
        else call.reject(new VilanoError(isErrorCode(m.code) ? m.code : "internal", m.message));
        return;
      }
      case "deliver":
        live.get(m.a)?.deliver?.(m.opKey, m.outcome);
        return;
      case "forget":
        parkedRuns.take(m.runId);
        return;
      case "abort":
        live.get(m.a)?.controller.abort(new VilanoError(isErrorCode(m.code) ? m.code : "cancelled", m.message));
        return;
      case "describe":
        void answer(m.q, async () => {
          const definitions = await loadCode(m.code, (file) => send({ t: "importing", q: m.q, file }));
          return describeDefinitions([...definitions.workflows.values()], [...definitions.services.values()]);
        });
        return;
      case "start_in":
        return startIn(m.dir);
      case "key":
        void answer(m.q, async () => {
          const definition = (await loadCode(m.code)).services.get(m.service);
          if (!definition) throw new VilanoError("unknown_service", `${m.code.id} has no service "${m.service}"`);
          return computeKey(definition, m.keyInput === null ? undefined : JSON.parse(m.keyInput));
        });
        return;
    }
  }

  /**
   * The pool started this worker ahead of any code and has given it one now: it works in that
   * code's folder, as a worker started for the code would have from the start. Only before any code
   * is imported or run here, so no user code ever sees its working directory change.
   */
  function startIn(dir: string): void {
    if (code.size > 0 || live.size > 0) {
      console.error(`vilano worker: told to start in ${dir} after code was loaded here; staying in ${process.cwd()}`);
      return;
    }
    try {
      process.chdir(dir);
    } catch (error) {
      // Its code would run in the wrong folder: better no worker (the daemon sees it exit while describing).
      console.error(`vilano worker: could not move to ${dir}: ${toFailureBody(error).message}`);
      process.exit(70);
    }
    exec = { ...exec, workspace: dir };
  }

  /** Results resent as failures: if one of those cannot go either, the worker is not fit to go on. */
  const resent = new WeakSet<FromWorker>();

  function unsent(message: FromWorker, error: unknown): void {
    switch (message.t) {
      case "report": {
        const call = calls.get(message.c);
        if (!call) return;
        calls.delete(message.c);
        call.reject(unsentReport(message.cmd, error));
        return;
      }
      case "finish":
      case "late": {
        if (resent.has(message)) return crash(message.a, `the failure of activation ${message.a} could not be sent either (${sendFailure(error)})`);
        const replacement: FromWorker = { ...message, result: unsentResult(message.result, error) };
        resent.add(replacement);
        send(replacement);
        return;
      }
      case "post":
        // A value the code already went on with is not in history: its run must go again from
        // history, which the daemon does when this worker is gone.
        return crash(message.a, `the value of op ${message.cmd.opKey} could not be sent (${sendFailure(error)})`);
      case "answer":
        if (message.ok) send({ t: "answer", q: message.q, ok: false, error: toFailureBody(new VilanoError("internal", `the answer could not be sent to the daemon: ${sendFailure(error)}`)) });
        else console.error(`vilano worker: could not send a failed answer: ${sendFailure(error)}`);
        return;
      default:
        // Live output and bookkeeping: nothing is recorded from them, so only this line is lost.
        console.error(`vilano worker: could not send a "${message.t}" message to the daemon: ${sendFailure(error)}`);
    }
  }

  /** Ends this worker, blaming the activation whose message could not go; the daemon recovers its runs. */
  function crash(a: number, why: string): void {
    console.error(`vilano worker: ${why}; exiting so that the daemon runs the activation again`);
    runAsActivation(a, () => process.exit(70));
  }

  return {
    receive,
    unsent,
    ready: (generation, extra = {}) => send({ t: "ready", generation, pid: process.pid, ...extra }),
    get active() {
      return live.size;
    },
  };
}

/** A report that is the outcome of a step attempt: the pool ends that step when it reads it (pool-step-deadlines.ts). */
const endsStep = (cmd: OpCommand): boolean => cmd.type === "step_completed" || cmd.type === "step_failed";

/** Log fields as plain data: serialised once, here; fields that cannot be are shown as a note. */
function plainFields(fields: Record<string, unknown>): unknown {
  try {
    const text = JSON.stringify(fields);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  } catch (error) {
    return { note: `the fields could not be shown: ${toFailureBody(error).message}` };
  }
}
