import { describe, expect, test } from "bun:test";
import { opKindModules } from "../../src/kernel/ops/index.ts";
import { AWAITED_KINDS, isOpKind, isService, NAMELESS_KINDS, OP_KIND, OP_KINDS, recordedValues, type OpCommand } from "../../src/shared/index.ts";

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
