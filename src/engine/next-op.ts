/**
 * How a `ctx` member asks for its op: the next key and position, checked against history, and the
 * name limit for ops history has not recorded. Its own file so that the members' modules and the
 * context that gathers them import it without importing each other.
 */
import { checkNameLength, type OpKind } from "../shared/index.ts";
import type { History } from "./history.ts";

/** Assigns the next op its key and position; a mismatch with history ends the run (`nondeterminism`). */
export interface NextOp {
  (kind: OpKind, name: string, key: string | undefined): ReturnType<History["next"]>;
  /**
   * The name limit (checkNameLength) for the op about to be asked for. Skipped when that op's
   * position is recorded: a history written before the limit existed, with a longer name or key,
   * still replays, and deterministic code gives a recorded op the name history holds anyway.
   */
  checkName(what: string, text: string): void;
}

/** NextOp's `checkName` for `history`: the limit holds from the first position history has not recorded. */
export function nameCheckOf(history: History): NextOp["checkName"] {
  return (what, text) => {
    if (history.requested <= history.lastRecordedSeq) return;
    checkNameLength(what, text);
  };
}
