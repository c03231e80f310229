// What a Condition needs from the lock it wraps (a SharedLock or SharedRLock).

import type { Caller } from "../_context.ts";
import { readBlocking } from "../_waiters.ts";

/** A lock a `SharedCondition` can wait with. */
export interface ConditionLock {
  /** True when `caller` holds the lock. */
  isOwnedBy(caller: Caller): boolean;
  /** Releases the lock completely for `caller`; returns what `restore` needs. */
  saveAndRelease(caller: Caller): number;
  /** Reacquires the lock for `caller` (waits; rejects if the caller goes away). */
  restore(caller: Caller, state: number): void | Promise<void>;
}

/**
 * The `acquire(opts)` options check shared by the lock types: as blocking
 * calls, plus `-1` meaning forever and no timeout on a non-blocking call
 * (CPython's `Lock.acquire`).
 */
export function readAcquire(
  opts: unknown,
): { block: boolean; timeout: number | undefined } {
  const r = readBlocking(opts, true);
  if (!r.block && r.timeout !== undefined) {
    throw new RangeError(
      "Cannot acquire as a timeout cannot be given for a non-blocking call",
    );
  }
  return r;
}
