/**
 * Durations as users write them: `"250ms"`, `"2s"`, `"5m"`, `"1h"`, `"1d"`, compounds such as
 * `"1m30s"`, or a plain number of milliseconds.
 */
import { describeValue } from "./describe-value.ts";
import { VilanoError } from "./errors.ts";

export type Duration = string | number;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** The longest duration accepted: 100 years. Longer ones would put due times past what a date can hold. */
export const MAX_DURATION_MS = 36_500 * 86_400_000;
type Unit = keyof typeof UNIT_MS;
// Largest units first, each at most once, so "1m30s" parses and "30s1m" or "1s1s" do not.
const UNIT_ORDER: readonly Unit[] = ["d", "h", "m", "s", "ms"];
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses a duration into milliseconds.
 * @example parseDuration("1m30s") // 90000
 * @throws VilanoError(validation_failed) naming the bad value and the accepted forms.
 */
export function parseDuration(value: unknown, what = "duration"): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return bounded(Math.round(value), value, what);
    throw invalid(value, what);
  }
  if (typeof value !== "string") throw invalid(value, what);
  const text = value.trim();
  if (text === "") throw invalid(value, what);
  let total = 0;
  let lastRank = -1;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) throw invalid(value, what);
    const unit = match[2] as Unit;
    const rank = UNIT_ORDER.indexOf(unit);
    if (rank <= lastRank) throw invalid(value, what);
    lastRank = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  if (!Number.isFinite(total)) throw invalid(value, what);
  return bounded(Math.round(total), value, what);
}

function bounded(ms: number, value: unknown, what: string): number {
  if (ms <= MAX_DURATION_MS) return ms;
  throw new VilanoError("validation_failed", `${what} ${describeValue(value)} is too long: at most 36500d (100 years)`, {
    details: { value: typeof value === "number" ? value : String(value), maxMs: MAX_DURATION_MS },
  });
}

/** An epoch time as ISO text, or a plain note for a number no date can hold (views must survive any stored value). */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} (not a valid time)` : date.toISOString();
}

/**
 * A duration as its user gave it, for messages: a string as written ("35s"), a number of
 * milliseconds with its unit (9986 → "9s986ms"), so a message never shows a bare number.
 */
export function durationAsGiven(value: Duration): string {
  return typeof value === "string" ? value.trim() : formatDuration(value);
}

/** Formats milliseconds compactly for humans: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms);
  let out = "";
  for (const unit of UNIT_ORDER) {
    const size = UNIT_MS[unit];
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

function invalid(value: unknown, what: string): VilanoError {
  const shown = describeValue(value);
  return new VilanoError(
    "validation_failed",
    `invalid ${what} ${shown}: use a number of milliseconds or a string like "250ms", "2s", "5m", "1h", "1d" or "1m30s"`,
    { details: { value: typeof value === "string" || typeof value === "number" ? value : shown } },
  );
}
