/**
 * The internal control-flow signal that ends an activation early (a durable wait, a retry backoff,
 * a lost lease, nondeterminism). It is thrown into user code to unwind it; the activation also
 * remembers that it suspended, so user code that catches and swallows it cannot complete the run.
 */
const SUSPENSION = Symbol.for("vilano.suspension");

export class Suspension extends Error {
  readonly [SUSPENSION] = true;
  constructor(reason: string) {
    super(`activation suspended (${reason}); this is Vilano's internal control flow — do not catch it`);
    this.name = "VilanoSuspension";
  }
}

export function isSuspension(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as { [SUSPENSION]?: boolean })[SUSPENSION] === true;
}
