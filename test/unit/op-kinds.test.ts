import { describe, expect, test } from "bun:test";
import { opKindModules } from "../../src/kernel/ops/index.ts";
import { AWAITED_KINDS, EVENT_TYPE, isOpKind, isService, NAMELESS_KINDS, OP_KIND, OP_KINDS, recordedValues, type OpCommand } from "../../src/shared/index.ts";

const kinds = Object.keys(OP_KINDS);
const sorted = (values: Iterable<string>) => [...values].sort();

describe("the op kind declarations", () => {
  test("the nameless kinds are the ones the engine keys as <kind>:<n>", () => {
    // The set engine/history.ts kept by hand before it was read from OP_KINDS.
    expect(sorted(NAMELESS_KINDS)).toEqual(sorted(["sleep", "log", "now", "random", "mailbox", "trap_exit", "exit_wait", "supervise", "members"]));
  });

  test("only values known at call time are left out of the delivery order on replay", () => {
    // The complement of the set engine/replay-scheduler.ts kept by hand (ASYNC_KINDS).
    expect(sorted(kinds.filter((kind) => !AWAITED_KINDS.has(kind)))).toEqual(
      sorted(["log", "now", "random", "mailbox", "connect", "spawn", "trap_exit", "supervise", "member_spawn"]),
    );
  });

  test("each kernel module owns exactly the kinds whose declarations name its commands", () => {
    for (const module of opKindModules) {
      const commands = new Set(Object.keys(module.record));
      const declared = kinds.filter((kind) => OP_KINDS[kind as keyof typeof OP_KINDS].recordedBy.some((command) => commands.has(command)));
      expect({ commands: sorted(commands), kinds: sorted(module.kinds) }).toEqual({ commands: sorted(commands), kinds: sorted(declared) });
    }
  });

  test("OP_KIND names every declared kind by itself, and isOpKind knows them and nothing else", () => {
    expect(Object.entries(OP_KIND) as [string, string][]).toEqual(kinds.map((kind) => [kind, kind]));
    expect(kinds.every(isOpKind)).toBe(true);
    expect([isOpKind("charge-card"), isOpKind("toString"), isOpKind("")]).toEqual([false, false, false]);
  });
});

describe("the event types", () => {
  // The timeline's event types before the op kinds declared theirs (issue 24): none may be lost.
  const before = `run_started run_recovered run_waiting run_resumed run_completed run_failed run_cancelled step_completed
    step_attempt_failed retry_scheduled step_failed timer_scheduled timer_fired signal_received signal_wait_started
    signal_consumed signal_timed_out log value_recorded instance_created service_connected message_enqueued
    message_rejected message_sent ask_sent ask_replied ask_timed_out turn_started turn_completed turn_failed
    turn_cancelled message_deferred message_failed message_cancelled instance_idle instance_stopped activation_lost
    worker_crashed exec_completed exec_attempt_failed exec_failed child_started child_ended child_signalled
    cancelled_with_parent relationship_added exit_received exit_consumed exit_wait_started exit_wait_timed_out
    linked_exit traps_exits supervisor_started member_started member_restarted supervision_exhausted subscribed
    unsubscribed published`.split(/\s+/);

  test("EVENT_TYPE is the run events and every kind's events, each named by itself", () => {
    expect(before.filter((type) => !Object.hasOwn(EVENT_TYPE, type))).toEqual([]);
    expect(Object.entries(EVENT_TYPE).every(([name, type]) => name === type)).toBe(true);
    for (const declaration of Object.values(OP_KINDS)) for (const event of declaration.events) expect(Object.hasOwn(EVENT_TYPE, event)).toBe(true);
  });
});

describe("recordedValues", () => {
  const identity = { opKey: "k:0", seq: 0, name: "n" };

  test("names each value a command carries with its op, as the value cap's errors say it", () => {
    const completed: OpCommand = { ...identity, type: "step_completed", attempt: 1, result: "1", kind: "exec", meta: "{}" };
    expect(recordedValues(completed)).toEqual([
      ["1", 'the result of exec "n" (op k:0)'],
      ["{}", 'the record of exec "n" (its argv) (op k:0)'],
    ]);
    const published: OpCommand = { ...identity, type: "publish", topic: "news", payload: '"hi"' };
    expect(recordedValues(published)).toEqual([['"hi"', 'the payload published to "news" (op k:0)']]);
  });

  test("a command that records no value has none to check", () => {
    expect(recordedValues({ ...identity, type: "sleep", durationMs: 5 })).toEqual([]);
  });
});

describe("isService", () => {
  test("tells a service instance from a workflow run", () => {
    expect([isService({ kind: "service" }), isService({ kind: "workflow" })]).toEqual([true, false]);
  });
});
