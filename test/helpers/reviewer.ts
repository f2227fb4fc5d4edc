/** The starter pair of SPEC §4.1: the shipped starter itself, so tests exercise what users get. */
export { reviewCoordinator, reviewer } from "../../starters/agent/src/agent.ts";

export const STARTER_INPUT = { repoId: "repo_123", note: "Ship 0.1" };
/**
 * The starter workflow's timeline, without run_waiting/run_resumed: whether the run parks before
 * the reply lands depends on timing.
 */
export const STARTER_EVENTS = ["run_started", "service_connected", "message_sent", "ask_sent", "ask_replied", "run_completed"];
export const withoutParking = (types: (string | undefined)[]) => types.filter((t) => t !== "run_waiting" && t !== "run_resumed");

export const STARTER_OUTPUT = {
  reviewerRunId: "svc:reviewer:repo_123",
  status: { repoId: "repo_123", noteCount: 1, notes: ["Ship 0.1"] },
};
