/** The starter pair of SPEC §4.1: the shipped starter itself, so tests exercise what users get. */
export { reviewCoordinator, reviewer } from "../../starters/agent/src/agent.ts";

export const STARTER_INPUT = { repoId: "repo_123", note: "Ship 0.1" };
export const STARTER_OUTPUT = {
  reviewerRunId: "svc:reviewer:repo_123",
  status: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] },
};
