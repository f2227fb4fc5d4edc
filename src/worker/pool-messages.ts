/**
 * What a worker says, and what the pool does with it: reports go to the kernel and their answers
 * back as replies; results end activations; step announcements arm the hard stop; subprocess groups
 * are vetted and noted; captures go to the sink; answers settle requests. And a message the pool
 * could not send to a live worker, alone: what that costs.
 */
import { crashPoint, errorCodeOf, isErrorCode, VilanoError } from "../shared/index.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";
import { vetExecGroup } from "./exec-groups.ts";
import { end, kill, killExecGroups, quietly, settleIdle } from "./pool-lifecycle.ts";
import { spawnIn } from "./pool-placement.ts";
import { MAX_STICKY, type PoolState } from "./pool-state.ts";
import { armStep, clearReportedStep, clearStep } from "./pool-step-deadlines.ts";
import { isPooled, remember, runOf, setBounded, type PoolWorker, type RunningStep } from "./pool-worker.ts";
import { unsentToWorker } from "./unsent-to-worker.ts";

/** How long an expired worker that woke up may go on talking (to the kernel, which refuses it) before it is retired. */
const EXPIRED_DRAIN_MS = 1_000;

const reply = (worker: PoolWorker, message: ToWorker) => worker.proc.send(message);
const refusal = (error: unknown) => ({ code: errorCodeOf(error) ?? "internal", message: (error as Error)?.message ?? String(error) });

export function onMessage(state: PoolState, worker: PoolWorker, m: FromWorker): void {
  const { kernel, log, options } = state;
  // A word about an activation (its `started` ack first) means the worker has read it (see takeBackFrom).
  if ("a" in m) {
    const held = worker.held.get(m.a);
    if (held) held.heard = true;
  }
  if (worker.life.state === "expired") {
    // It woke up: let what it says reach the kernel (which refuses it), then retire it.
    setTimeout(() => kill(worker, "expired"), EXPIRED_DRAIN_MS).unref();
  }
  switch (m.t) {
    case "ready":
    case "hb":
    case "started":
      return;
    case "report": {
      const runId = runOf(worker, m.a);
      if (runId === undefined) {
        reply(worker, { t: "reply", a: m.a, c: m.c, ok: false, code: "stale_lease", message: `activation ${m.a} is not held by this worker` });
        return;
      }
      clearReportedStep(worker, m.a, m.cmd);
      kernel.reportOp(runId, m.fence, m.cmd).then(
        (res) => (crashPoint("after_worker_report"), reply(worker, { t: "reply", a: m.a, c: m.c, ok: true, res })),
        (error) => reply(worker, { t: "reply", a: m.a, c: m.c, ok: false, ...refusal(error) }),
      );
      return;
    }
    case "post": {
      const runId = runOf(worker, m.a);
      if (runId === undefined) return;
      kernel.reportOp(runId, m.fence, m.cmd).catch(quietly(state, `run ${runId}: could not record ${m.cmd.opKey}`));
      return;
    }
    case "finish": {
      if (m.live) worker.live = m.live;
      const held = worker.held.get(m.a);
      if (!held) {
        const runId = worker.gone.get(m.a);
        if (runId === undefined) return;
        kernel.finishActivation(runId, m.fence, m.result).catch(quietly(state, `run ${runId}: result from an expired lease`));
        return;
      }
      // Done on the worker's side: while its commit is pending, the worker owes no word of it (blocked-workers.ts).
      held.finished = true;
      if (m.result.type === "aborted") return end(state, worker, held);
      state.cohorts.release(held.runId);
      // Its code may go on after it looked blocked (see ActivationHost.settleLate): keep hearing it.
      if (m.result.type === "suspended") {
        remember(worker, m.a, held.runId);
        setBounded(state.parkedIn, held.runId, worker, MAX_STICKY);
      }
      kernel
        .finishActivation(held.runId, m.fence, m.result)
        .catch(quietly(state, `run ${held.runId}: could not record its result`))
        .finally(() => end(state, worker, held));
      return;
    }
    case "sleep_late":
      kernel.noteSleepLateness(m.ms);
      return;
    case "late": {
      const runId = worker.gone.get(m.a);
      if (runId === undefined) return;
      worker.gone.delete(m.a);
      log.warn(`run ${runId}: its code went on after it looked blocked on a durable wait — it awaited work that is not a ctx operation; put such work inside ctx.step`);
      kernel.finishActivation(runId, m.fence, m.result).catch(quietly(state, `run ${runId}: late result dropped`));
      return;
    }
    case "log": {
      const runId = runOf(worker, m.a);
      if (runId === undefined) return;
      if (m.fields === undefined) state.runLog.info(`${runId} ${m.message}`);
      else state.runLog.info(`${runId} ${m.message}`, m.fields);
      return;
    }
    case "step": {
      const held = worker.held.get(m.a);
      if (!held) return;
      const step: RunningStep = { ...m, deadline: m.timeoutMs === null ? null : Date.now() + m.timeoutMs, timer: null };
      held.steps.set(m.opKey, step);
      if (step.deadline === null) return;
      armStep(state, worker, step, step.deadline + state.settings.hardStopGraceMs);
      // A timed step may need a hard stop: have a spare worker ready, so the retry (and the
      // activations the killed worker held) go on at once instead of waiting for a new process.
      if (worker.code && isPooled(worker)) {
        const live = [...(state.groups.get(worker.code.id) ?? [])].filter((w) => w.life.state === "live" && isPooled(w));
        if (live.length < Math.min(2, options.size)) spawnIn(state, worker.code, false);
      }
      return;
    }
    case "step_end":
      clearStep(worker, m.a, m.opKey);
      return;
    case "exec_start": {
      // A claim from where user code runs (it can write this message itself): believed only when /proc agrees.
      const group = vetExecGroup(m.pid, { pid: worker.proc.pid, uid: worker.uid, start: worker.start });
      if ("refused" in group) {
        log[group.level](group.refused);
        return;
      }
      worker.execGroups.set(group.pid, group);
      options.execLedger?.started(group);
      // Read after the worker's exit was handled: nobody else will end it.
      if (worker.life.state === "dead") killExecGroups(state, worker);
      return;
    }
    case "exec_end":
      if (worker.execGroups.delete(m.pid)) options.execLedger?.ended(m.pid);
      return;
    case "exec_output": {
      const runId = worker.held.get(m.a)?.runId;
      if (runId !== undefined) options.captures?.output(runId, { opKey: m.opKey, attempt: m.attempt, stream: m.stream, text: m.text });
      return;
    }
    case "exec_artifact": {
      const runId = worker.held.get(m.a)?.runId;
      // An SDK worker caps artifacts at the value cap (capture.maxBytes); one that does not is not kept.
      if (m.content.length > Math.ceil(kernel.maxValueBytes / 3) * 4) {
        log.error(`worker ${worker.proc.pid} sent an artifact of ${m.content.length} base64 characters, more than the value cap allows (VILANO_MAX_VALUE_BYTES); not kept`);
        return;
      }
      const content = new Uint8Array(Buffer.from(m.content, "base64"));
      if (runId !== undefined) options.captures?.artifact(runId, { opKey: m.opKey, attempt: m.attempt, path: m.path, content, bytes: m.bytes });
      return;
    }
    case "importing": {
      const request = worker.requests.get(m.q);
      if (request) request.file = m.file;
      return;
    }
    case "answer": {
      const request = worker.requests.get(m.q);
      if (!request) return;
      worker.requests.delete(m.q);
      clearTimeout(request.timer);
      if (m.ok) request.resolve(m.value);
      else request.reject(new VilanoError(isErrorCode(m.error.code) ? m.error.code : "validation_failed", m.error.message, { details: m.error.details }));
      settleIdle(state, worker);
      return;
    }
  }
}

/** A message that could not be sent to a live worker, alone: what it costs, instead of a run that waits for it. */
export function onUnsent(state: PoolState, worker: PoolWorker, message: ToWorker, error: unknown): void {
  const { log } = state;
  const pid = worker.proc.pid;
  const cost = state.refusalsSent.has(message) ? { why: `a refusal could not be sent either: ${(error as Error)?.message ?? String(error)}` } : unsentToWorker(message, error);
  if ("fail" in cost && message.t === "activate") {
    const held = worker.held.get(message.a);
    if (!held || held.ended) return;
    log.error(`run ${held.runId}: ${cost.why}; the run fails (worker ${pid})`);
    state.kernel
      .finishActivation(held.runId, held.fence, cost.fail)
      .catch(quietly(state, `run ${held.runId}: could not record that its activation could not be sent`))
      .finally(() => end(state, worker, held));
    return;
  }
  log.error(`worker ${pid}: ${cost.why}`);
  if ("instead" in cost) {
    state.refusalsSent.add(cost.instead);
    worker.proc.send(cost.instead);
  }
}
