/**
 * The pool as the store's statements outside the writer's transaction see it: a statement (a
 * tagged template, `unsafe`, `begin`) is not sent while the database is away — it fails at once
 * with `database_unavailable`, so no connection is tried meanwhile — and a failure that says the
 * connection is gone is told as `database_unavailable` and has the server looked at
 * (availability.ts). Everything else (`listen`, `close`) is the pool's own.
 *
 * Bun sends a statement when it is first given a `then`, and a statement used inside another
 * (`${sql.unsafe(COLUMNS)}`) is never sent itself: so the statement is made as usual and only its
 * `then` is the gate's, and a fragment never sees the gate at all.
 */
import type { SQL } from "bun";
import type { AvailabilityGate } from "./availability.ts";

type Then = (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) => Promise<unknown>;

export function gatedPool(sql: SQL, gate: AvailabilityGate): SQL {
  /** The statement as made, with the gate in its `then`. */
  const gated = <Q extends object>(statement: Q): Q =>
    new Proxy(statement, {
      get(target, property) {
        if (property === "then") {
          const then: Then = (onFulfilled, onRejected) => {
            try {
              gate.check();
            } catch (refusal) {
              return Promise.reject(refusal).then(onFulfilled, onRejected);
            }
            return (target as unknown as { then: Then }).then(onFulfilled, (error: unknown) => {
              const told = gate.failed(error);
              if (onRejected) return onRejected(told);
              throw told;
            });
          };
          return then;
        }
        const value = Reflect.get(target, property) as unknown;
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const unsafe = (text: string, params?: unknown[]) => gated(sql.unsafe(text, params));
  const begin = async (fn: (tx: SQL) => Promise<unknown>) => {
    gate.check();
    try {
      return await sql.begin(fn as never);
    } catch (error) {
      throw gate.failed(error);
    }
  };
  return new Proxy(sql, {
    apply: (target, thisArg, args: unknown[]) => gated(Reflect.apply(target as unknown as (...a: unknown[]) => object, thisArg, args)),
    get(target, property) {
      if (property === "unsafe") return unsafe;
      if (property === "begin") return begin;
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
