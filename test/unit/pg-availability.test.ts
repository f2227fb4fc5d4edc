/**
 * The PostgreSQL store's view of whether its server is there (store/postgres/availability.ts): a
 * lost connection has the server looked at once, and nothing changes when it answers; when it does
 * not, the database is away — calls are refused with `database_unavailable` and when to try again —
 * and it is looked at again after waits that grow (jittered) up to a ceiling, never in a loop; once
 * a look succeeds it is back, the listeners hear both changes, and the wait starts small again.
 */
import { describe, expect, test } from "bun:test";
import { createAvailabilityGate } from "../../src/store/postgres/availability.ts";
import type { DatabaseState } from "../../src/store/index.ts";
import { eventually } from "../helpers/temp-dir.ts";

const lost = () => Object.assign(new Error("Failed to connect"), { code: "ERR_POSTGRES_CONNECTION_REFUSED" });
const refusalOf = (fn: () => void): { code?: string; details?: { retryAfterSeconds?: number } } | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error as { code?: string; details?: { retryAfterSeconds?: number } };
  }
};

describe("the availability gate", () => {
  test("a lost connection the server answers a look for changes nothing; other errors pass through untouched", async () => {
    let looks = 0;
    const gate = createAvailabilityGate({ where: "db", look: async () => void looks++ });
    const other = new Error("syntax error");
    expect(gate.failed(other)).toBe(other);
    expect(looks).toBe(0);
    const told = gate.failed(lost()) as { code?: string; details?: { retryAfterSeconds?: number } };
    expect(told.code).toBe("database_unavailable");
    expect(told.details?.retryAfterSeconds).toBe(1);
    await gate.whenLooked();
    expect(looks).toBe(1);
    expect(gate.current()).toEqual({ available: true });
    expect(refusalOf(() => gate.check())).toBeUndefined();
    gate.close();
  });

  test("away: refuses at once, looks again with growing waits, and is back when a look succeeds", async () => {
    const lookedAt: number[] = [];
    let serverBack = false;
    const changes: DatabaseState[] = [];
    const gate = createAvailabilityGate({
      where: "postgres://db",
      firstWaitMs: 20,
      maxWaitMs: 320,
      random: () => 0.5,
      look: async () => {
        lookedAt.push(performance.now());
        if (!serverBack) throw new Error("connect ECONNREFUSED");
      },
    });
    gate.onChange((state) => changes.push(state));
    gate.failed(lost());
    await gate.whenLooked();
    const away = gate.current();
    expect(away.available).toBe(false);
    expect(!away.available && away.message).toContain("the database at postgres://db is unavailable: connect ECONNREFUSED");
    const refusal = refusalOf(() => gate.check());
    expect(refusal?.code).toBe("database_unavailable");
    expect(refusal?.details?.retryAfterSeconds).toBeGreaterThanOrEqual(1);

    // Waits of 15, 30, 60, 120, 240 ms, then 240 each (three quarters of 20 doubling to 320): in
    // about two seconds some ten looks, where looking every 20 ms would have made a hundred.
    await Bun.sleep(2_000);
    const looks = lookedAt.length;
    expect(looks).toBeGreaterThanOrEqual(5);
    expect(looks).toBeLessThanOrEqual(25);
    const waits = lookedAt.slice(1).map((at, i) => at - lookedAt[i]!);
    // The fourth wait is at least its 120 ms (a timer only ever fires late), the first ones' eightfold.
    expect(waits[3]!).toBeGreaterThanOrEqual(119);
    // Many calls meanwhile send nothing: a refusal each, and no look of their own.
    for (let i = 0; i < 1_000; i++) expect(refusalOf(() => gate.check())?.code).toBe("database_unavailable");
    for (let i = 0; i < 100; i++) gate.failed(lost());
    expect(lookedAt.length).toBeLessThanOrEqual(looks + 1);

    serverBack = true;
    await eventually(() => (gate.current().available ? true : undefined), 10_000, "the gate to see the server back");
    expect(refusalOf(() => gate.check())).toBeUndefined();
    expect(changes.map((c) => c.available)).toEqual([false, true]);
    gate.close();
  }, 30_000);
});
