/**
 * The filters of a run list (`run list`, `GET /v1/runs`, the dashboard), checked the same way
 * everywhere: a value that no run can have is an error naming it, never an empty success. Each
 * check returns what is wrong (to be prefixed with the flag or field), or undefined.
 */
import { isValidName, isValidProjectName } from "./ids.ts";
import { RUN_STATUS, SERVICE_STATUS, type AnyRunStatus } from "./status.ts";

/** Every status a listed run can have: a workflow run's, then the ones only service instances have. */
export const LISTED_STATUSES: readonly AnyRunStatus[] = [...new Set<AnyRunStatus>([...Object.values(RUN_STATUS), ...Object.values(SERVICE_STATUS)])];

/** The most runs one page holds. */
export const MAX_PAGE_SIZE = 9999;

/** True for a status a listed run can have. */
export const isListedStatus = (value: string): value is AnyRunStatus => (LISTED_STATUSES as readonly string[]).includes(value);

const shown = (value: string) => JSON.stringify(value);

export function runStatusProblem(value: string): string | undefined {
  if (isListedStatus(value)) return undefined;
  return `${shown(value)} is not a run status; use one of ${LISTED_STATUSES.join(", ")}`;
}

export function projectNameProblem(value: string): string | undefined {
  if (isValidProjectName(value)) return undefined;
  return `${shown(value)} is not a project name (1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit)`;
}

export function definitionNameProblem(value: string): string | undefined {
  if (isValidName(value)) return undefined;
  return `${shown(value)} is not a workflow or service name (letters, digits, "_", "." or "-", starting with a letter or "_")`;
}

export function pageSizeProblem(value: string): string | undefined {
  if (/^\d{1,4}$/.test(value) && Number(value) >= 1 && Number(value) <= MAX_PAGE_SIZE) return undefined;
  return `${shown(value)} is not a whole number from 1 to ${MAX_PAGE_SIZE}`;
}
