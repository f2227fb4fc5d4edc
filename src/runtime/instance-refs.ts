/**
 * The refs that calls by key (`services.call` with `key`) go through, kept per service instance.
 * Which snapshot an instance runs is fixed when it is created, and a run row is never deleted, so
 * an instance once found keeps the same ref: only a key not seen yet reads the database. Without
 * this, every call by key read the instance's whole row (its state included) and, while a batch
 * was being committed, waited for that commit before its own message could even be submitted.
 * Only instances that exist are kept: a key that has none yet is looked up again next time.
 */

/** Enough for every instance a busy daemon talks to at once; past it the oldest is looked up again. */
export const MAX_KNOWN_INSTANCES = 4096;

export interface InstanceRefs<R> {
  /** The ref of an instance found before, if it is still kept. */
  get(instanceId: string): R | undefined;
  /** Keeps the ref of an instance that was just found to exist. */
  remember(instanceId: string, ref: R): void;
}

export function createInstanceRefs<R>(max = MAX_KNOWN_INSTANCES): InstanceRefs<R> {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`the number of instance refs kept must be a positive integer, got ${max}`);
  const refs = new Map<string, R>();
  return {
    get: (instanceId) => refs.get(instanceId),
    remember(instanceId, ref) {
      refs.delete(instanceId);
      refs.set(instanceId, ref);
      // A Map iterates in insertion order: the first key is the one kept longest.
      if (refs.size > max) refs.delete(refs.keys().next().value!);
    },
  };
}
