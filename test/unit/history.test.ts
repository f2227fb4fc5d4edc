import { thrownBy } from "../helpers/thrown-by.ts";
import { describe, expect, test } from "bun:test";
import { createHistory } from "../../src/engine/history.ts";
import { NondeterminismError, VilanoError } from "../../src/shared/errors.ts";
import type { HistoryOp } from "../../src/shared/protocol.ts";


function recorded(opKey: string, seq: number, kind: HistoryOp["kind"], name: string): HistoryOp {
  return { opKey, seq, kind, name, status: "completed", attempt: 1, result: "null", error: null, resolvedSeq: seq + 1 };
}

describe("createHistory", () => {
  describe("op keys", () => {
    test("keys the first step by kind and name with index 0", () => {
      expect(createHistory([]).next("step", "charge", undefined).op).toEqual({ kind: "step", name: "charge", opKey: "step:charge:0", seq: 0 });
    });

    test("counts repeated steps of the same name", () => {
      const history = createHistory([]);
      const keys = [1, 2, 3].map(() => history.next("step", "poll", undefined).op.opKey);
      expect(keys).toEqual(["step:poll:0", "step:poll:1", "step:poll:2"]);
    });

    test("counts each step name separately", () => {
      const history = createHistory([]);
      const keys = ["a", "b", "a", "b"].map((name) => history.next("step", name, undefined).op.opKey);
      expect(keys).toEqual(["step:a:0", "step:b:0", "step:a:1", "step:b:1"]);
    });

    test("counts each kind separately for the same name", () => {
      const history = createHistory([]);
      const keys = [history.next("step", "x", undefined), history.next("signal", "x", undefined)].map((r) => r.op.opKey);
      expect(keys).toEqual(["step:x:0", "signal:x:0"]);
    });

    test("keys nameless kinds by kind and index only", () => {
      const history = createHistory([]);
      const keys = (["sleep", "log", "now", "random", "sleep", "now"] as const).map((kind) => history.next(kind, "ignored", undefined).op.opKey);
      expect(keys).toEqual(["sleep:0", "log:0", "now:0", "random:0", "sleep:1", "now:1"]);
    });

    test("counts nameless ops together whatever name is passed", () => {
      const history = createHistory([]);
      const keys = ["one", "two"].map((name) => history.next("sleep", name, undefined).op.opKey);
      expect(keys).toEqual(["sleep:0", "sleep:1"]);
    });

    test("uses an explicit key verbatim", () => {
      expect(createHistory([]).next("step", "charge", "charge-order-42").op.opKey).toBe("charge-order-42");
    });

    test("assigns consecutive positions across kinds", () => {
      const history = createHistory([]);
      const seqs = [
        history.next("step", "a", undefined),
        history.next("sleep", "", undefined),
        history.next("step", "b", "custom"),
      ].map((r) => r.op.seq);
      expect(seqs).toEqual([0, 1, 2]);
    });

    test("refuses an explicit key used twice as a validation error", () => {
      const history = createHistory([]);
      history.next("step", "a", "k");
      const error = thrownBy(() => history.next("step", "b", "k")) as VilanoError;
      expect(error).not.toBeInstanceOf(NondeterminismError);
      expect(error.code).toBe("validation_failed");
      expect(error.message).toContain('op key "k" is used twice');
    });

    test("refuses an explicit key that repeats an implicit one", () => {
      const history = createHistory([]);
      history.next("step", "a", undefined);
      const error = thrownBy(() => history.next("step", "b", "step:a:0")) as VilanoError;
      expect(error.code).toBe("validation_failed");
      expect((error.details as { opKey: string }).opKey).toBe("step:a:0");
    });
  });

  describe("replay", () => {
    test("returns the recorded op for a matching request", () => {
      const op = recorded("step:a:0", 0, "step", "a");
      expect(createHistory([op]).next("step", "a", undefined).recorded).toBe(op);
    });

    test("returns no recorded op past the end of history", () => {
      const history = createHistory([recorded("step:a:0", 0, "step", "a")]);
      history.next("step", "a", undefined);
      expect(history.next("step", "b", undefined).recorded).toBeUndefined();
    });

    test("replays a whole matching sequence", () => {
      const ops = [
        recorded("step:a:0", 0, "step", "a"),
        recorded("sleep:0", 1, "sleep", ""),
        recorded("approve", 2, "signal", "approval"),
        recorded("step:a:1", 3, "step", "a"),
      ];
      const history = createHistory(ops);
      const replayed = [
        history.next("step", "a", undefined),
        history.next("sleep", "", undefined),
        history.next("signal", "approval", "approve"),
        history.next("step", "a", undefined),
      ].map((r) => r.recorded);
      expect(replayed).toEqual(ops);
    });

    test("matches a nameless op even if its name changed", () => {
      const op = recorded("sleep:0", 0, "sleep", "old");
      expect(createHistory([op]).next("sleep", "new", undefined).recorded).toBe(op);
    });
  });

  describe("nondeterminism", () => {
    test("detects a different name under the same explicit key", () => {
      const history = createHistory([recorded("k", 0, "step", "charge")]);
      const error = thrownBy(() => history.next("step", "refund", "k")) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.message).toBe(
        'nondeterminism at op key "k": history recorded step "charge" (key k, position 0), but the code now asks for step "refund" (key k, position 0)',
      );
    });

    test("detects a different kind under the same explicit key", () => {
      const history = createHistory([recorded("k", 0, "step", "wait")]);
      const error = thrownBy(() => history.next("signal", "wait", "k")) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.details).toEqual({
        opKey: "k",
        recorded: 'step "wait" (key k, position 0)',
        requested: 'signal "wait" (key k, position 0)',
      });
    });

    test("detects a different nameless kind at a recorded position", () => {
      const history = createHistory([recorded("sleep:0", 0, "sleep", "")]);
      const error = thrownBy(() => history.next("now", "", undefined)) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.details).toEqual({
        opKey: "sleep:0",
        recorded: "sleep (key sleep:0, position 0)",
        requested: "now (key now:0, position 0)",
      });
    });

    test("detects a renamed step with implicit keys", () => {
      const history = createHistory([recorded("step:charge:0", 0, "step", "charge")]);
      const error = thrownBy(() => history.next("step", "bill", undefined)) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.message).toContain('history recorded step "charge" (key step:charge:0, position 0)');
      expect(error.message).toContain('asks for step "bill" (key step:bill:0, position 0)');
    });

    test("detects reordered steps", () => {
      const history = createHistory([recorded("step:a:0", 0, "step", "a"), recorded("step:b:0", 1, "step", "b")]);
      const error = thrownBy(() => history.next("step", "b", undefined)) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.details).toEqual({
        opKey: "step:a:0",
        recorded: 'step "a" (key step:a:0, position 0)',
        requested: 'step "b" (key step:b:0, position 0)',
      });
    });

    test("detects a recorded op requested at a different position", () => {
      // Nothing is recorded at position 0, but step:b:0 was recorded at position 1.
      const history = createHistory([recorded("step:b:0", 1, "step", "b")]);
      const error = thrownBy(() => history.next("step", "b", undefined)) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.details).toEqual({
        opKey: "step:b:0",
        recorded: 'step "b" (key step:b:0, position 1)',
        requested: 'step "b" (key step:b:0, position 0)',
      });
    });

    test("detects a different key at a recorded position", () => {
      const history = createHistory([recorded("first", 0, "step", "a")]);
      const error = thrownBy(() => history.next("step", "a", "second")) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect(error.details).toEqual({
        opKey: "first",
        recorded: 'step "a" (key first, position 0)',
        requested: 'step "a" (key second, position 0)',
      });
    });

    test("detects an op inserted before recorded ones", () => {
      const history = createHistory([recorded("step:a:0", 0, "step", "a"), recorded("step:b:0", 1, "step", "b")]);
      history.next("step", "a", undefined);
      const error = thrownBy(() => history.next("step", "new", undefined)) as NondeterminismError;
      expect(error).toBeInstanceOf(NondeterminismError);
      expect((error.details as { opKey: string }).opKey).toBe("step:b:0");
    });

    test("names the op key, the recorded op and the requested op in the message", () => {
      const history = createHistory([recorded("step:a:0", 0, "step", "a")]);
      const error = thrownBy(() => history.next("sleep", "", undefined)) as NondeterminismError;
      const details = error.details as { opKey: string; recorded: string; requested: string };
      expect(error.message).toContain(`"${details.opKey}"`);
      expect(error.message).toContain(details.recorded);
      expect(error.message).toContain(details.requested);
    });
  });
});
