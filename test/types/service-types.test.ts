/**
 * Compile-time checks of the service types (run by `bun run typecheck`); the single runtime test
 * only keeps bun:test from reporting an empty file. A `@ts-expect-error` that stops erroring fails
 * the type-check, so these cannot pass vacuously.
 */
import { expect, test } from "bun:test";
import { workflow } from "../../src/sdk/index.ts";
import { reviewer } from "../helpers/reviewer.ts";

export const coordinator = workflow({
  name: "coordinator",
  run: async (input: { repoId: string; note: string }, ctx) => {
    const ref = await ctx.connect(reviewer, { repoId: input.repoId });
    await ref.send.hint({ note: input.note });
    // @ts-expect-error the payload of hint is { note: string }
    await ref.send.hint({ nope: 1 });
    // @ts-expect-error there is no send handler named missing
    await ref.send.missing({});
    // @ts-expect-error the key input is { repoId: string }
    await ctx.connect(reviewer, { id: 1 });
    const status = await ref.ask.status();
    const count: number = status.noteCount;
    // @ts-expect-error the reply has no field named other
    void status.other;
    return { reviewerRunId: ref.id, status, count };
  },
});

test("service types compile (checked by tsc)", () => {
  expect(reviewer.kind).toBe("service");
});
