/**
 * The store contract (`src/store/contract.ts`) as one suite that every store runs, in the manner of
 * Hono's `router/common.case.test.ts`: `runStoreContract(name, open)` declares a `describe` per
 * table and a test per statement, plus the transactions every store gives. The cases are typed
 * against the contract's groups, so a statement added to `StoreOps` without a case here does not
 * compile. Writes go through the writer's transaction (as the kernel's do) and are read back both
 * inside it and through `reads` after the commit.
 */
import { describe, expect, test } from "bun:test";
import type { Store } from "../../src/store/index.ts";
import type { StatementName } from "../../src/store/statement-effects.ts";
import { instanceCases, runCases } from "./runs.case.ts";
import { opCases, timerCases } from "./ops.case.ts";
import { eventCases, metaCases, runWaiterCases, signalCases } from "./journal.case.ts";
import { messageCases } from "./messages.case.ts";
import { projectCases, relationCases, subscriptionCases, supervisionCases } from "./relations.case.ts";
import { transactionCases, type Case } from "./harness.ts";

/** Every group of the contract with its cases (each group's literal `satisfies` its part of the contract, in its file). */
const GROUPS = {
  runs: runCases,
  "service instances": instanceCases,
  ops: opCases,
  timers: timerCases,
  events: eventCases,
  signals: signalCases,
  "run waiters": runWaiterCases,
  messages: messageCases,
  projects: projectCases,
  "relationships and exit events": relationCases,
  supervision: supervisionCases,
  subscriptions: subscriptionCases,
  "meta and the database": metaCases,
};

// The groups together are exactly the contract: no statement without a case, no case without a statement.
type Covered = { [G in keyof typeof GROUPS]: keyof (typeof GROUPS)[G] }[keyof typeof GROUPS];
const everyStatementHasACase: [StatementName] extends [Covered] ? ([Covered] extends [StatementName] ? true : never) : never = true;
void everyStatementHasACase;

/** Runs the contract against the store `open` gives (a fresh, empty database each time). */
export function runStoreContract(name: string, open: () => Promise<Store>, timeoutMs = 30_000): void {
  const each = (title: string, body: Case) =>
    test(
      title,
      async () => {
        await using store = closing(await open());
        await body(store);
      },
      timeoutMs,
    );
  describe(`the store contract: ${name}`, () => {
    for (const [group, cases] of Object.entries(GROUPS)) {
      describe(group, () => {
        for (const [statement, body] of Object.entries(cases) as [string, Case][]) each(statement, body);
      });
    }
    describe("transactions", () => {
      for (const [title, body] of Object.entries(transactionCases)) each(title, body);
    });
  });
}

const closing = (store: Store) => Object.assign(store, { [Symbol.asyncDispose]: () => store.close() });
