/**
 * The starter agent: a `reviewer` service that keeps notes per repository, and a
 * `reviewCoordinator` workflow that sends it a note and asks for its status.
 *
 *   vilano project add . --name my-agent
 *   vilano run start my-agent/reviewCoordinator --input '{"repoId":"repo_123","note":"Ship 0.1"}' --wait
 */
import { service, workflow } from "@vilano/runtime";

export const reviewer = service({
  name: "reviewer",
  key: (input: { repoId: string }) => input.repoId,
  init: async (input) => ({ repoId: input.repoId, notes: [] as string[] }),
  onSend: {
    hint: async (payload: { note: string }, state) => ({ state: { ...state, notes: [...state.notes, payload.note] } }),
  },
  onAsk: {
    status: async (_p: void, state) => ({
      reply: { repoId: state.repoId, noteCount: state.notes.length, notes: state.notes },
    }),
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
