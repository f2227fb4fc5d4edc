/**
 * The op history of one activation: resolves each requested op by key and checks, for every op,
 * that the code asks for what history recorded at the same place (kind, name, position).
 */
import { NAMELESS_KINDS as NAMELESS, NondeterminismError, VilanoError, type HistoryOp, type OpKind } from "../shared/index.ts";

export interface RequestedOp {
  kind: OpKind;
  name: string;
  opKey: string;
  seq: number;
}

export interface History {
  /** Assigns key and position to the next op the code asks for, and checks it against history. */
  next(kind: OpKind, name: string, explicitKey: string | undefined): { op: RequestedOp; recorded: HistoryOp | undefined };
  /** How many ops the code has asked for so far (the next op's position). */
  readonly requested: number;
  /** The position of the last op recorded when the activation began (-1: none). */
  readonly lastRecordedSeq: number;
}

function describe(op: { kind: string; name: string; opKey: string; seq: number }): string {
  const label = NAMELESS.has(op.kind) ? op.kind : `${op.kind} "${op.name}"`;
  return `${label} (key ${op.opKey}, position ${op.seq})`;
}

/** `scope` prefixes every key (a service turn's message scope, e.g. `m12/`). */
export function createHistory(ops: readonly HistoryOp[], scope = ""): History {
  const byKey = new Map<string, HistoryOp>();
  const bySeq = new Map<number, HistoryOp>();
  for (const op of ops) {
    byKey.set(op.opKey, op);
    bySeq.set(op.seq, op);
  }
  const lastRecordedSeq = ops.reduce((last, op) => Math.max(last, op.seq), -1);
  const counters = new Map<string, number>();
  const usedKeys = new Set<string>();
  let seq = 0;

  return {
    next(kind, name, explicitKey) {
      const counterKey = NAMELESS.has(kind) ? kind : `${kind}:${name}`;
      const n = counters.get(counterKey) ?? 0;
      counters.set(counterKey, n + 1);
      const opKey = scope + (explicitKey ?? `${counterKey}:${n}`);
      const op: RequestedOp = { kind, name, opKey, seq: seq++ };
      if (usedKeys.has(opKey)) {
        // A programming error at the call site, not a divergence from history.
        throw new VilanoError("validation_failed", `op key ${JSON.stringify(opKey)} is used twice in one run; give each op its own key`, {
          details: { opKey, requested: describe(op) },
        });
      }
      usedKeys.add(opKey);

      const atSeq = bySeq.get(op.seq);
      const recorded = byKey.get(opKey);
      const mismatch =
        (atSeq && atSeq.opKey !== opKey && atSeq) ||
        (recorded && (recorded.seq !== op.seq || recorded.kind !== kind || (!NAMELESS.has(kind) && recorded.name !== name)) && recorded);
      if (mismatch) {
        const recordedText = describe(mismatch);
        const requestedText = describe(op);
        throw new NondeterminismError(
          `nondeterminism at op key ${JSON.stringify(mismatch.opKey)}: history recorded ${recordedText}, but the code now asks for ${requestedText}`,
          { opKey: mismatch.opKey, recorded: recordedText, requested: requestedText },
        );
      }
      return { op, recorded };
    },
    get requested() {
      return seq;
    },
    lastRecordedSeq,
  };
}
