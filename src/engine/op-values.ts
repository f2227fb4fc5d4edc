/** Small values shared by the ops of `ctx`. */

/** Returned by a failed attempt whose retry is scheduled: the op waits for a later activation. */
export const RETRY_LATER = Symbol("retry later");

export const parseStored = (text: string | null): unknown => (text === null ? undefined : JSON.parse(text));
