/**
 * Runs one activation of a workflow: replays the code from the top against its history, executes
 * what is not recorded yet, and says how the activation ended. With live executions, code that
 * suspended is parked, and the run's next activation resumes it (live-executions.ts says when).
 */
import { toFailureBody, toOptionalJson, type ActivationResult, type HistoryOp, type LiveOutcome } from "../shared/index.ts";
import type { AnyServiceDefinition, WorkflowDefinition } from "../sdk/index.ts";
import type { ActivationState } from "./activation-state.ts";
import { createDurableContext } from "./durable-context.ts";
import { driveSettled, prepare, startCode, type Settled } from "./drive.ts";
import type { ActivationHost } from "./host.ts";
import type { LiveExecutions, ParkedExecution } from "./live-executions.ts";
import { createSwitchableHost, type SwitchableHost } from "./switchable-host.ts";
import { MICROTASK_PATIENCE } from "./replay-scheduler.ts";

export interface ActivationInput {
  runId: string;
  project: string;
  /** The run's input as JSON text, or null. */
  input: string | null;
  ops: readonly HistoryOp[];
  /** The project's services, for `ctx.lookupSingleton`. */
  services?: ReadonlyMap<string, AnyServiceDefinition>;
}

/** What a parked workflow execution is resumed with: the new activation's history and host. */
export interface WorkflowResume {
  ops: readonly HistoryOp[];
  host: ActivationHost;
}

export type WorkflowLiveExecutions = LiveExecutions<WorkflowResume, ActivationResult>;

export async function runWorkflowActivation(
  definition: WorkflowDefinition,
  activation: ActivationInput,
  host: ActivationHost,
  keep?: WorkflowLiveExecutions,
): Promise<ActivationResult> {
  const live = keep?.enabled ? keep : undefined;
  if (live) {
    const parked = live.take(activation.runId);
    if (parked) {
      const resumed = parked.resume({ ops: activation.ops, host });
      if (resumed) {
        live.countResumed();
        return resumed;
      }
      live.countStale();
    }
  }
  // Code that may be parked talks to a host that can be pointed at a later activation's.
  const switchable = live ? createSwitchableHost(host) : null;
  const codeHost = switchable?.host ?? host;
  const { state, history, scheduler } = prepare(activation.ops, codeHost);
  const ctx = createDurableContext({
    runId: activation.runId,
    project: activation.project,
    history,
    scheduler,
    host: codeHost,
    state,
    ...(activation.services ? { services: activation.services } : {}),
  });
  const input = activation.input === null ? undefined : (JSON.parse(activation.input) as unknown);

  const toResult = (settled: Settled): ActivationResult => {
    if (!settled.ok) return { type: "failed", error: toFailureBody(settled.error) };
    try {
      return { type: "completed", output: toOptionalJson(settled.value, `the output of workflow "${definition.name}"`) };
    } catch (error) {
      return { type: "failed", error: { ...toFailureBody(error), retryable: false } };
    }
  };
  const settled = startCode(() => definition.run(input, ctx));
  const result = await driveSettled(state, settled, toResult, codeHost.settleLate);
  if (live && switchable && result.type === "suspended" && state.parkable()) {
    const execution = parkable({ runId: activation.runId, state, requested: () => history.requested, switchable, settled, toResult, live });
    live.park(activation.runId, execution);
    // Code that settles on its own while parked (it awaited non-durable work) is not resumable.
    void settled.then(() => live.forget(activation.runId, execution));
  }
  return result;
}

interface Parked {
  runId: string;
  state: ActivationState;
  requested: () => number;
  switchable: SwitchableHost;
  settled: Promise<Settled>;
  toResult: (settled: Settled) => ActivationResult;
  live: WorkflowLiveExecutions;
}

function parkable(p: Parked): ParkedExecution<WorkflowResume, ActivationResult> {
  const execution: ParkedExecution<WorkflowResume, ActivationResult> = {
    resume({ ops, host }) {
      const outcomes = outcomesToResume(ops, p.requested(), p.state.openWaits(), p.switchable.sent);
      if (!outcomes) return null;
      p.switchable.switchTo(host);
      p.state.reopen();
      host.receiveOutcomes?.((opKey, outcome) => p.state.deliver(opKey, outcome));
      return (async () => {
        // As a replay would: in delivery order, each continuation running before the next outcome.
        for (const [i, { opKey, outcome }] of outcomes.entries()) {
          if (i > 0) await letWokenCodeRun();
          p.state.resumeWait(opKey, outcome);
        }
        // Woken with nothing new for it (a wake-up that raced a suspension) the code is still
        // blocked: it must be seen to be, or this activation would wait forever.
        p.state.poke();
        const result = await driveSettled(p.state, p.settled, p.toResult, p.switchable.host.settleLate);
        if (result.type === "suspended" && p.state.parkable()) p.live.park(p.runId, execution);
        return result;
      })();
    },
  };
  return execution;
}

/**
 * The outcomes a parked execution is resumed with, in the order they were delivered; null when
 * the history holds an op the execution did not send (the run went on elsewhere), lacks one it did
 * send (a fire-and-forget record that never committed: a replay would not see its value), or
 * holds a wait of it in a state a resume cannot hand over.
 */
export function outcomesToResume(
  ops: readonly HistoryOp[],
  requested: number,
  open: readonly string[],
  sent: ReadonlySet<string>,
): { opKey: string; outcome: LiveOutcome }[] | null {
  const byKey = new Map<string, HistoryOp>();
  for (const op of ops) {
    if (op.seq >= requested || !sent.has(op.opKey)) return null;
    byKey.set(op.opKey, op);
  }
  for (const opKey of sent) if (!byKey.has(opKey)) return null;
  const ready: { op: HistoryOp; outcome: LiveOutcome }[] = [];
  for (const opKey of open) {
    const op = byKey.get(opKey);
    if (!op) return null;
    if (op.status === "completed") ready.push({ op, outcome: { status: "completed", result: op.result } });
    else if (op.status === "failed") ready.push({ op, outcome: { status: "failed", error: JSON.parse(op.error ?? "{}") } });
    else if (op.status !== "waiting") return null;
  }
  return ready.sort((a, b) => (a.op.resolvedSeq ?? 0) - (b.op.resolvedSeq ?? 0)).map(({ op, outcome }) => ({ opKey: op.opKey, outcome }));
}

/**
 * The replay scheduler's rule between two outcomes that are both awaited already (every open
 * wait is): microtask turns only, so the code one woke asks for its next ops first — exactly as
 * a replay of this history will release them.
 */
async function letWokenCodeRun(): Promise<void> {
  for (let i = 0; i < MICROTASK_PATIENCE; i++) await Promise.resolve();
}
