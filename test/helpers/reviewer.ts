/** The starter pair of SPEC §4.1, shared by tests. */
import { service, workflow } from "../../src/sdk/index.ts";

export const reviewer = service({
  name: "reviewer",
  key: (input: { repoId: string }) => input.repoId,
  init: async (input) => ({ repoId: input.repoId, notes: [] as string[] }),
  onSend: {
    hint: async (payload: { note: string }, state) => ({ state: { ...state, notes: [...state.notes, payload.note] } }),
  },
  onAsk: {
    status: async (_p: void, state) => ({ reply: { repoId: state.repoId, noteCount: state.notes.length, notes: state.notes } }),
  },
});

export const reviewCoordinator = workflow({
  name: "reviewCoordinator",
  run: async (input: { repoId: string; note: string }, ctx) => {
    const ref = await ctx.connect(reviewer, { repoId: input.repoId });
    await ref.send.hint({ note: input.note });
    return { reviewerRunId: ref.id, status: await ref.ask.status() };
  },
});
