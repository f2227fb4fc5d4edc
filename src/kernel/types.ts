/**
 * The kernel's closed sets and the plain-data protocol between an activation (the engine running
 * user code) and the kernel. Everything here is JSON-able so it can cross a process boundary.
 */
import type { RunKind, TurnInput } from "../shared/index.ts";
import type { OpRow, RunRow } from "../store/index.ts";

export {
  RUN_STATUS,
  SERVICE_STATUS,
  MESSAGE_STATUS,
  OP_STATUS,
  TERMINAL_STATUSES,
  LEASED_STATUSES,
  isTerminal,
  isLeased,
  isSettledOp,
  type RunStatus,
  type ServiceStatus,
  type AnyRunStatus,
  type MessageStatus,
  type OpStatus,
  OP_KIND,
  type OpKind,
  EVENT_TYPE,
  type EventType,
} from "../shared/index.ts";

export type { OpCommand, OpResolution, ActivationResult, HistoryOp, TurnInput, MailboxView } from "../shared/index.ts";

/** A leased activation: the run, its fencing token and its op history (a turn's: its message's ops). */
export interface Activation {
  run: RunRow;
  fence: number;
  ops: OpRow[];
  /** Present for a service turn. */
  turn?: TurnInput;
}

export interface StartRunRequest {
  id?: string;
  /** The project the run belongs to ("" in an embedded runtime) and the snapshot it is pinned to. */
  project?: string;
  snapshotId?: string | null;
  kind?: RunKind;
  name: string;
  /** JSON text of the input, or null for none. */
  input: string | null;
  parentId?: string | null;
}

export interface StartRunResult {
  run: RunRow;
  /** False when a run with this id already existed and was returned instead. */
  created: boolean;
}
