// What a Condition needs from the lock it wraps (a SharedLock or SharedRLock).

import type { Caller } from "./_caller.ts";

/** A lock a `SharedCondition` can wait with. */
export interface ConditionLock {
  /** True when `caller` holds the lock. */
  isOwnedBy(caller: Caller): boolean;
  /** Releases the lock completely for `caller`; returns what `restore` needs. */
  saveAndRelease(caller: Caller): number;
  /** Reacquires the lock for `caller` (waits; rejects if the caller goes away). */
  restore(caller: Caller, state: number): void | Promise<void>;
}
