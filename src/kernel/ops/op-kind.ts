/**
 * One module per op kind: how its command is recorded in the journal, what its timer does when it
 * fires, and how an open op of that kind is explained. The shape of each command is in
 * `shared/op-commands.ts`; `index.ts` gathers the modules into the tables the kernel uses.
 */
import { formatDuration, formatTime, type OpInfo, type OpCommandOf, type OpCommandType, type OpResolution, type OpStatus } from "../../shared/index.ts";
import type { OpRow, RunRow } from "../../store/index.ts";
import { appendEvent, type KernelContext } from "../context.ts";
import type { Tx } from "../group-commit.ts";
import { isTerminal, OP_STATUS, type EventType, type OpKind } from "../types.ts";
import { endOutcome } from "../run-ends.ts";

type OpFields = Partial<Pick<OpRow, "attempt" | "result" | "error" | "wakeAt" | "meta">>;

/** What recording one command needs: where, for whom, and helpers to write the op and its events. */
export interface Recording {
  k: KernelContext;
  tx: Tx;
  runId: string;
  /** The op's key. */
  opKey: string;
  /** The run reporting the op (its lease is checked). */
  caller: RunRow;
  /** Writes the op's journal row under the command's key and position. */
  put(kind: OpKind, status: OpStatus, fields?: OpFields): Promise<void>;
  event(type: EventType, body?: Record<string, unknown>): Promise<unknown>;
}

export type Recorder<T extends OpCommandType> = (r: Recording, cmd: OpCommandOf<T>) => Promise<OpResolution>;

export interface OpKindModule<T extends OpCommandType = never> {
  /** The journal kinds this module owns. */
  kinds: readonly OpKind[];
  /** How each of its commands is recorded. */
  record: { [C in T]: Recorder<C> };
  /** The op's timer (`wake_at`) is due: settle it; true wakes the run. */
  fire?(k: KernelContext, tx: Tx, op: OpRow): Promise<boolean>;
  /** What run `runId` waits for while the op is open, in words (`now` for relative times). */
  explain?(op: OpInfo, now: number, runId: string): string;
}

/** Keeps each module's command types exact while it is declared. */
export const defineOpKind = <T extends OpCommandType = never>(module: OpKindModule<T>): OpKindModule<T> => module;

export function createRecording(k: KernelContext, tx: Tx, caller: RunRow, cmd: { opKey: string; seq: number; name: string }): Recording {
  return {
    k,
    tx,
    runId: caller.id,
    opKey: cmd.opKey,
    caller,
    put: (kind, status, fields = {}) =>
      k.store.putOp({
        runId: caller.id,
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
      }),
    event: (type, body) => appendEvent(k, tx, caller.id, type, body),
  };
}

/** " in 5s, at <ISO time>", or " (due now)" — for explanations of timed waits. */
export const when = (at: number | undefined, now: number): string =>
  at === undefined ? "" : at <= now ? " (due now)" : ` in ${formatDuration(at - now)}, at ${formatTime(at)}`;

/** Reads an op's meta column (JSON text). */
export const metaOf = <T>(op: { meta: string | null }): Partial<T> => (op.meta ? (JSON.parse(op.meta) as Partial<T>) : {});

/**
 * An op that waits for `target`'s end (a child's or a member's result): settled now when it has
 * ended, otherwise noted in `run_waiters` so that the transaction ending it settles the op.
 */
export async function waitForEnd(r: Recording, kind: OpKind, target: RunRow, meta: string): Promise<OpResolution> {
  if (isTerminal(target.status)) {
    const outcome = endOutcome(target);
    if (outcome.status === "completed") {
      await r.put(kind, OP_STATUS.completed, { result: outcome.result, meta });
      return { outcome: "completed", result: outcome.result };
    }
    await r.put(kind, OP_STATUS.failed, { error: JSON.stringify(outcome.error), meta });
    return { outcome: "failed", error: outcome.error };
  }
  await r.put(kind, OP_STATUS.waiting, { meta });
  await r.k.store.addRunWaiter(target.id, r.runId, r.opKey, r.tx.now);
  return { outcome: "waiting" };
}
