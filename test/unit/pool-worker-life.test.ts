import { describe, expect, test } from "bun:test";
import { nextLife, type Death, type LifeEvent, type WorkerLife } from "../../src/worker/pool-worker.ts";

const death = (kind: Death["kind"]): Death => ({ kind, victims: new Map() });
const live: WorkerLife = { state: "live" };
const expired: WorkerLife = { state: "expired" };
const EXPIRE: LifeEvent = { type: "expire" };
const EXIT: LifeEvent = { type: "exit" };
const kill = (kind: Death["kind"]): LifeEvent => ({ type: "kill", death: death(kind) });

describe("a pooled worker's life (nextLife)", () => {
  test("a live worker stopped past its lease expires", () => {
    expect(nextLife(live, EXPIRE)).toEqual({ state: "expired" });
  });

  test("only a live worker expires: a dying or dead one stays as it is", () => {
    const dying: WorkerLife = { state: "dying", death: death("idle") };
    const dead: WorkerLife = { state: "dead", death: null };
    expect(nextLife(expired, EXPIRE)).toBe(expired);
    expect(nextLife(dying, EXPIRE)).toBe(dying);
    expect(nextLife(dead, EXPIRE)).toBe(dead);
  });

  test("a live or expired worker the pool ends is dying, for that reason", () => {
    expect(nextLife(live, kill("hard_stop"))).toEqual({ state: "dying", death: death("hard_stop") });
    expect(nextLife(expired, kill("expired"))).toEqual({ state: "dying", death: death("expired") });
  });

  test("a worker ended twice keeps the first reason: its activations are judged by it", () => {
    const dying = nextLife(live, kill("hard_stop"));
    expect(nextLife(dying, kill("close"))).toEqual({ state: "dying", death: death("hard_stop") });
  });

  test("a worker that exits while dying is dead for the reason it was ended", () => {
    expect(nextLife(nextLife(live, kill("evacuated")), EXIT)).toEqual({ state: "dead", death: death("evacuated") });
  });

  test("a worker that exits without being ended died on its own: no reason (a crash)", () => {
    expect(nextLife(live, EXIT)).toEqual({ state: "dead", death: null });
    expect(nextLife(expired, EXIT)).toEqual({ state: "dead", death: null });
  });

  test("nothing brings back a dead worker, nor changes why it died", () => {
    const crashed: WorkerLife = { state: "dead", death: null };
    const stopped: WorkerLife = { state: "dead", death: death("cancel") };
    for (const event of [EXPIRE, EXIT, kill("idle")]) {
      expect(nextLife(crashed, event)).toBe(crashed);
      expect(nextLife(stopped, event)).toBe(stopped);
    }
  });
});
