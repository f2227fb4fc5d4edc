/**
 * The op kinds the kernel knows, gathered from their modules: which module records each command,
 * fires each kind's timer and explains each kind's open ops. Adding a kind is its declaration in
 * `shared/op-commands.ts` plus the module that handles it (listed once below when it is a new module).
 */
import { OP_KINDS, type OpCommand, type OpCommandType, type OpInfo, type OpResolution } from "../../shared/index.ts";
import type { OpRow } from "../../store/index.ts";
import type { KernelContext } from "../context.ts";
import type { Tx } from "../group-commit.ts";
import { OP_STATUS } from "../types.ts";
import { askOps } from "./ask.ts";
import { childResultOps } from "./child-result.ts";
import { childSignalOps } from "./child-signal.ts";
import { childStatusOps } from "./child-status.ts";
import { connectOps } from "./connect.ts";
import type { OpKindModule, Recorder, Recording } from "./op-kind.ts";
import { recordOps } from "./record.ts";
import { sendOps } from "./send.ts";
import { serviceStatusOps } from "./service-status.ts";
import { signalWaitOps } from "./signal-wait.ts";
import { sleepOps } from "./sleep.ts";
import { spawnOps } from "./spawn.ts";
import { explainRetry, fireRetry, stepOps } from "./step.ts";
import { exitWaitOps } from "./exit-wait.ts";
import { relateOps } from "./relate.ts";
import { trapExitOps } from "./trap-exit.ts";
import { memberOps } from "./member-result.ts";
import { superviseOps } from "./supervise.ts";
import { pubsubOps } from "./pubsub.ts";

/** Every op-kind module, once. A new module is one line here (a new kind of an existing module, none). */
const MODULES = [
  stepOps,
  sleepOps,
  signalWaitOps,
  recordOps,
  connectOps,
  sendOps,
  askOps,
  serviceStatusOps,
  spawnOps,
  childResultOps,
  childStatusOps,
  childSignalOps,
  relateOps,
  trapExitOps,
  exitWaitOps,
  superviseOps,
  memberOps,
  pubsubOps,
] as const;

// A command that no module records does not compile: the error names it.
type RecordedCommands<M> = M extends { record: infer R } ? keyof R : never;
type CommandWithoutRecorder = Exclude<OpCommandType, RecordedCommands<(typeof MODULES)[number]>>;
const everyCommandHasARecorder: [CommandWithoutRecorder] extends [never] ? true : `no module records ${CommandWithoutRecorder}` = true;
void everyCommandHasARecorder;

// Each module's command types are checked above; from here on a module is handled by the command it gets.
const ANY_MODULES = MODULES as readonly OpKindModule<never>[] as readonly OpKindModule<OpCommandType>[];
const RECORDERS = recordersOf(ANY_MODULES);

/** Which module records each command; two modules recording one command is a mistake caught at load. */
function recordersOf(modules: readonly OpKindModule<OpCommandType>[]): { [C in OpCommandType]: Recorder<C> } {
  const table: Partial<Record<OpCommandType, Recorder<OpCommandType>>> = {};
  for (const module of modules) {
    for (const [type, recorder] of Object.entries(module.record) as [OpCommandType, Recorder<OpCommandType>][]) {
      if (table[type]) throw new Error(`op command ${type} is recorded by two op-kind modules`);
      table[type] = recorder;
    }
  }
  return table as { [C in OpCommandType]: Recorder<C> };
}

/** The module that owns each journal kind; a declared kind with no module, or with two, is a mistake caught at load. */
const BY_KIND = ownersOf(ANY_MODULES);

function ownersOf(modules: readonly OpKindModule<OpCommandType>[]): ReadonlyMap<string, OpKindModule<OpCommandType>> {
  const owners = new Map<string, OpKindModule<OpCommandType>>();
  for (const module of modules) {
    for (const kind of module.kinds) {
      if (owners.has(kind)) throw new Error(`op kind ${kind} is owned by two op-kind modules`);
      owners.set(kind, module);
    }
  }
  for (const kind of Object.keys(OP_KINDS)) if (!owners.has(kind)) throw new Error(`op kind ${kind} (shared/op-commands.ts) has no module in kernel/ops`);
  return owners;
}

/** The modules, for the test that checks them against the declarations of `OP_KINDS`. */
export const opKindModules: readonly OpKindModule<OpCommandType>[] = ANY_MODULES;

export function recordCommand(r: Recording, cmd: OpCommand): Promise<OpResolution> {
  return (RECORDERS[cmd.type] as Recorder<OpCommandType>)(r, cmd as never);
}

/** An op's timer is due. A retry backoff ends the same way for every kind; the rest is the kind's. True wakes the run. */
export async function fireOpTimer(k: KernelContext, tx: Tx, op: OpRow): Promise<boolean> {
  if (op.status === OP_STATUS.retry_wait) return fireRetry(k, tx, op);
  const fire = BY_KIND.get(op.kind)?.fire;
  if (fire && op.status === OP_STATUS.waiting) return fire(k, tx, op);
  // Not a timer this kind has (or no longer open): clear it so it cannot fire forever.
  await k.store.putOp({ ...op, wakeAt: null, now: tx.now });
  return false;
}

/** What the run waits for while `op` is open, in words; undefined for an op that is not open. */
export function explainOp(op: OpInfo, now: number, runId: string): string | undefined {
  if (op.status === OP_STATUS.retry_wait) return explainRetry(op, now);
  if (op.status !== OP_STATUS.waiting) return undefined;
  return BY_KIND.get(op.kind)?.explain?.(op, now, runId) ?? `waiting on ${op.opKey} (${op.kind})`;
}
