// What Condition (and synchronized Value/Array) need from Lock and RLock,
// reached through a module-private symbol so it stays off the public surface,
// and the owner bookkeeping both locks share.

import type { Waiter } from "./_futex.ts";
import { THREAD_HI, THREAD_LO } from "./_thread.ts";

/** The key of a lock's internal interface. */
export const LOCK_CORE: unique symbol = Symbol("sharedmem.lockCore") as never;

/** Internal operations of `Lock` and `RLock`. */
export interface LockCore {
  /** True when this thread holds the lock. */
  isMine(): boolean;
  /** Releases the lock completely; returns what `restore` needs. */
  releaseSave(): number;
  /** Re-takes the lock (no deadline) and restores the saved state. */
  acquireRestore(saved: number): Waiter<void>;
}

/** Bytes of a lock's shared memory: four Int32 words. */
export const LOCK_BYTES = 16;
/** Int32 index of the mutex word. */
export const MUTEX = 0;
/** Int32 index of the recursion count (RLock). */
export const COUNT = 1;
/** Int32 indexes of the owner's thread id (0, 0: nobody). */
const OWNER_HI = 2;
const OWNER_LO = 3;

// The owner words are written only by the thread that holds the mutex, with
// plain stores (the mutex's atomics order them for the next holder). Another
// thread reading them without the lock may see a stale value, but never its
// own id unless it holds the lock: its own last write was a clear.

/** Records this thread as the owner (the caller holds the mutex). */
export function setOwner(i32: Int32Array): void {
  i32[OWNER_HI] = THREAD_HI;
  i32[OWNER_LO] = THREAD_LO;
}

/** Clears the owner (the caller holds the mutex). */
export function clearOwner(i32: Int32Array): void {
  i32[OWNER_HI] = 0;
  i32[OWNER_LO] = 0;
}

/** True when this thread is the recorded owner. */
export function ownedHere(i32: Int32Array): boolean {
  return i32[OWNER_LO] === THREAD_LO && i32[OWNER_HI] === THREAD_HI;
}
