/**
 * The op journal: records what an activation reports (step results and failures with their retry
 * decisions, timers, signal waits, recorded values), each only under the activation's current lease.
 */
import { decideRetry, VilanoError, type FailureBody } from "../shared/index.ts";
import type { OpRow } from "../store/index.ts";
import { appendEvent, requireLease, type KernelContext } from "./context.ts";
import { connectInstance, enqueueMessage, instanceId, kernelFailure } from "./inbox.ts";
import type { Tx } from "./group-commit.ts";
import { OP_KIND, OP_STATUS, type OpCommand, type OpResolution } from "./types.ts";

export function reportOp(k: KernelContext, tx: Tx, runId: string, fence: number, cmd: OpCommand): OpResolution {
  const caller = requireLease(k, runId, fence);
  const existing = k.store.getOp(runId, cmd.opKey);
  if (existing && (existing.status === OP_STATUS.completed || existing.status === OP_STATUS.failed)) {
    // The engine resolves recorded ops from history and never reports them again; a second report
    // means two executions raced, and the first record must stand.
    throw new VilanoError("conflict", `run ${runId}: op ${cmd.opKey} is already recorded as ${existing.status}`, {
      details: { runId, opKey: cmd.opKey },
    });
  }
  const put = (kind: string, status: string, fields: Partial<Pick<OpRow, "attempt" | "result" | "error" | "wakeAt" | "meta">>) =>
    k.store.putOp({
      runId,
      opKey: cmd.opKey,
      seq: cmd.seq,
      kind,
      name: cmd.name,
      status,
      attempt: fields.attempt ?? 1,
      result: fields.result ?? null,
      error: fields.error ?? null,
      wakeAt: fields.wakeAt ?? null,
      meta: fields.meta ?? null,
      now: tx.now,
    });

  switch (cmd.type) {
    case "step_completed": {
      const kind = cmd.kind ?? OP_KIND.step;
      put(kind, OP_STATUS.completed, { attempt: cmd.attempt, result: cmd.result, meta: cmd.meta ?? null });
      appendEvent(k, tx, runId, kind === OP_KIND.exec ? "exec_completed" : "step_completed", { opKey: cmd.opKey, name: cmd.name, attempt: cmd.attempt });
      return { outcome: "recorded" };
    }

    case "step_failed": {
      const kind = cmd.kind ?? OP_KIND.step;
      const decision = decideRetry(cmd.retry, cmd.error, cmd.attempt, `${runId}|${cmd.opKey}`);
      const forced = (cmd.error.details as { forcedTermination?: unknown } | undefined)?.forcedTermination === true;
      appendEvent(k, tx, runId, kind === OP_KIND.exec ? "exec_attempt_failed" : "step_attempt_failed", {
        opKey: cmd.opKey,
        name: cmd.name,
        attempt: cmd.attempt,
        family: cmd.error.family,
        error: cmd.error.message,
        ...(forced ? { forcedTermination: true } : {}),
        decision: decision.decision,
        ...(decision.delayMs !== undefined ? { delayMs: decision.delayMs } : {}),
      });
      const error = JSON.stringify(cmd.error);
      const meta = (extra: object) => JSON.stringify({ ...(cmd.meta ? (JSON.parse(cmd.meta) as object) : {}), ...extra });
      if (decision.decision === "scheduled") {
        const wakeAt = tx.now + decision.delayMs!;
        put(kind, OP_STATUS.retry_wait, { attempt: cmd.attempt, error, wakeAt, meta: meta({ decision }) });
        appendEvent(k, tx, runId, "retry_scheduled", {
          opKey: cmd.opKey,
          nextAttempt: cmd.attempt + 1,
          delayMs: decision.delayMs,
          wakeAt,
        });
        tx.after(() => k.armTimer(wakeAt));
        return { outcome: "retry", delayMs: decision.delayMs!, wakeAt };
      }
      put(kind, OP_STATUS.failed, { attempt: cmd.attempt, error, meta: meta({ decision }) });
      appendEvent(k, tx, runId, kind === OP_KIND.exec ? "exec_failed" : "step_failed", { opKey: cmd.opKey, name: cmd.name, attempt: cmd.attempt, decision: decision.decision });
      return { outcome: "failed", error: cmd.error };
    }

    case "sleep": {
      const wakeAt = tx.now + cmd.durationMs;
      put(OP_KIND.sleep, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ durationMs: cmd.durationMs }) });
      appendEvent(k, tx, runId, "timer_scheduled", { opKey: cmd.opKey, durationMs: cmd.durationMs, wakeAt });
      tx.after(() => k.armTimer(wakeAt));
      return { outcome: "scheduled", wakeAt };
    }

    case "wait_signal": {
      const signal = k.store.takeBufferedSignal(runId, cmd.name, cmd.opKey);
      if (signal) {
        put(OP_KIND.signal, OP_STATUS.completed, { result: signal.payload });
        appendEvent(k, tx, runId, "signal_consumed", { opKey: cmd.opKey, name: cmd.name, signalId: signal.id, buffered: true });
        return { outcome: "signal", payload: signal.payload };
      }
      const wakeAt = cmd.timeoutMs === null ? null : tx.now + cmd.timeoutMs;
      put(OP_KIND.signal, OP_STATUS.waiting, { wakeAt, meta: JSON.stringify({ timeoutMs: cmd.timeoutMs }) });
      appendEvent(k, tx, runId, "signal_wait_started", {
        opKey: cmd.opKey,
        name: cmd.name,
        ...(wakeAt !== null ? { timeoutAt: wakeAt } : {}),
      });
      if (wakeAt !== null) tx.after(() => k.armTimer(wakeAt));
      return { outcome: "waiting" };
    }

    case "connect": {
      // Instances live in the caller's project and are pinned to the caller's snapshot.
      const found = k.store.getRun(instanceId(caller.project, cmd.name, cmd.key));
      if (!found && cmd.mustExist) {
        // A failure the caller can catch (and that replays), not a refusal of the report.
        const error = kernelFailure("not_found", `service "${cmd.name}" has no instance with key ${JSON.stringify(cmd.key)}`, { key: cmd.key });
        put(OP_KIND.connect, OP_STATUS.failed, { error: JSON.stringify(error) });
        return { outcome: "failed", error };
      }
      const { run } = connectInstance(k, tx, {
        project: caller.project,
        snapshotId: caller.snapshotId,
        service: cmd.name,
        key: cmd.key,
        keyInput: cmd.keyInput,
        mustExist: false,
      });
      const value = JSON.stringify({ serviceRunId: run.id });
      put(OP_KIND.connect, OP_STATUS.completed, { result: value });
      appendEvent(k, tx, runId, "service_connected", { opKey: cmd.opKey, service: cmd.name, key: cmd.key, serviceRunId: run.id });
      return { outcome: "value", value };
    }

    case "send": {
      const sent = enqueueMessage(k, tx, {
        serviceRunId: cmd.serviceRunId,
        kind: cmd.messageKind,
        handler: cmd.handler,
        payload: cmd.payload,
        sender: { runId, opKey: cmd.opKey },
        maxQueued: cmd.maxQueued,
      });
      if (!sent.ok) {
        put(OP_KIND.send, OP_STATUS.failed, { error: JSON.stringify(sent.error) });
        return { outcome: "failed", error: sent.error };
      }
      const value = JSON.stringify({ messageId: sent.messageId });
      put(OP_KIND.send, OP_STATUS.completed, { result: value });
      appendEvent(k, tx, runId, "message_sent", { opKey: cmd.opKey, to: cmd.serviceRunId, kind: cmd.messageKind, name: cmd.handler, messageId: sent.messageId });
      return { outcome: "value", value };
    }

    case "ask": {
      const sent = enqueueMessage(k, tx, {
        serviceRunId: cmd.serviceRunId,
        kind: "ask",
        handler: cmd.handler,
        payload: cmd.payload,
        sender: { runId, opKey: cmd.opKey },
        maxQueued: cmd.maxQueued,
      });
      if (!sent.ok) {
        put(OP_KIND.ask, OP_STATUS.failed, { error: JSON.stringify(sent.error) });
        return { outcome: "failed", error: sent.error };
      }
      const wakeAt = cmd.timeoutMs === null ? null : tx.now + cmd.timeoutMs;
      put(OP_KIND.ask, OP_STATUS.waiting, {
        wakeAt,
        meta: JSON.stringify({ serviceRunId: cmd.serviceRunId, messageId: sent.messageId, timeoutMs: cmd.timeoutMs }),
      });
      appendEvent(k, tx, runId, "ask_sent", { opKey: cmd.opKey, to: cmd.serviceRunId, name: cmd.handler, messageId: sent.messageId });
      if (wakeAt !== null) tx.after(() => k.armTimer(wakeAt));
      return { outcome: "waiting" };
    }

    case "service_status": {
      const target = k.store.getRun(cmd.serviceRunId);
      if (!target) throw new VilanoError("not_found", `service instance ${cmd.serviceRunId} does not exist`);
      const value = JSON.stringify(target.status);
      put(OP_KIND.service_status, OP_STATUS.completed, { result: value });
      return { outcome: "value", value };
    }

    case "record":
      put(cmd.kind, OP_STATUS.completed, { result: cmd.value });
      if (cmd.kind === "log") {
        appendEvent(k, tx, runId, "log", { opKey: cmd.opKey, ...(JSON.parse(cmd.value) as Record<string, unknown>) });
      } else {
        appendEvent(k, tx, runId, "value_recorded", { opKey: cmd.opKey, kind: cmd.kind });
      }
      return { outcome: "recorded" };
  }
}

export function askTimeoutBody(serviceRunId: string, timeoutMs: number | null): FailureBody {
  return {
    name: "AskTimeoutError",
    message: `no reply from ${serviceRunId} within ${timeoutMs ?? "its"} ms`,
    code: "ask_timeout",
    family: "timeout",
    retryable: false,
    details: { serviceRunId, timeoutMs },
  };
}

export function signalTimeoutBody(signalName: string, timeoutMs: number | null): FailureBody {
  return {
    name: "SignalTimeoutError",
    message: `signal "${signalName}" did not arrive within ${timeoutMs ?? "its"} ms`,
    code: "signal_timeout",
    family: "timeout",
    retryable: false,
    details: { signalName, timeoutMs },
  };
}
