/** valibot schemas of the control API's bodies and queries. */
import * as v from "valibot";
import { definitionNameProblem, pageSizeProblem, parseDuration, projectNameProblem, RUN_KIND, runStatusProblem, type AnyRunStatus } from "../shared/index.ts";

const Name = v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(200, "is too long"));
const Target = v.pipe(v.string(), v.regex(/^[^/\s]+\/[^/\s]+$/, "must be <project>/<name>"));
/** A duration checked completely here, before the request writes anything. */
const Duration = v.pipe(
  v.union([v.pipe(v.string(), v.minLength(1)), v.pipe(v.number(), v.minValue(0))], "must be a duration like \"30s\" or a number of ms"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      parseDuration(dataset.value);
    } catch (error) {
      addIssue({ message: (error as Error).message });
    }
  }),
);

export const AddProjectBody = v.strictObject({
  // The daemon's working directory is not the caller's: only absolute paths mean the same to both.
  path: v.pipe(Name, v.startsWith("/", "must be an absolute path")),
  name: Name,
});
/** `wait`: answer once the run has ended, or after this long with the run as it is then (one request per run). */
export const StartRunBody = v.strictObject({ target: Target, input: v.optional(v.unknown()), id: v.optional(Name), wait: v.optional(Duration) });
/** A query value no run could match is refused, naming it (shared with the CLI's flags). */
const Filter = (problem: (value: string) => string | undefined) =>
  v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      const wrong = dataset.typed ? problem(dataset.value) : undefined;
      if (wrong) addIssue({ message: wrong });
    }),
  );
export const ListRunsQuery = v.strictObject({
  project: v.optional(Filter(projectNameProblem)),
  // runStatusProblem refuses anything but a listed run status, so what passes is one.
  status: v.optional(v.pipe(Filter(runStatusProblem), v.transform((status) => status as AnyRunStatus))),
  workflow: v.optional(Filter(definitionNameProblem)),
  kind: v.optional(v.picklist(Object.values(RUN_KIND), "must be workflow or service")),
  limit: v.optional(v.pipe(Filter(pageSizeProblem), v.transform(Number))),
  /** The `nextCursor` of the previous page. */
  cursor: v.optional(v.pipe(v.string(), v.maxLength(600, "is too long"))),
});
export const ResultQuery = v.strictObject({
  wait: v.optional(v.pipe(v.string(), v.regex(/^\d{1,7}$/, "must be milliseconds"), v.transform(Number))),
});
export const EventsQuery = v.strictObject({
  after: v.optional(v.pipe(v.string(), v.regex(/^\d{1,9}$/, "must be an event sequence number"), v.transform(Number))),
});
export const CancelBody = v.strictObject({ reason: v.optional(v.string()) });
export const SignalBody = v.strictObject({ name: Name, payload: v.optional(v.unknown()) });
export const ServiceCallBody = v.pipe(
  v.strictObject({
    kind: v.picklist(["send", "signal", "ask"], "must be send, signal or ask"),
    handler: Name,
    key: v.optional(Name),
    keyInput: v.optional(v.unknown()),
    payload: v.optional(v.unknown()),
    timeout: v.optional(Duration),
  }),
  // Both: the key input addresses (and creates) the instance, and the key must be the one it gives.
  v.check((b) => b.key !== undefined || b.keyInput !== undefined, "give either key or keyInput, or both (the key must then be the one the key input gives)"),
);
export const EnsureServiceBody = v.strictObject({ keyInput: v.unknown(), key: v.optional(Name) });
export const StopServiceBody = v.strictObject({ key: Name, reason: v.optional(v.string()) });
