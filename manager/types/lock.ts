// The referent behind `SyncManager.Lock()` (CPython's `threading.Lock`). Any
// client may release it; the holder is the client whose acquire last
// succeeded, and its lock is released if it disconnects. A released lock is
// handed directly to the oldest waiter, so a dead waiter is never granted it.

import { type Caller, currentCaller, type Owned } from "./_caller.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import { readAcquire } from "./_blocking.ts";
import type { ConditionLock } from "./_lockable.ts";
import type { BlockingOptions } from "./options.ts";

/** Server-side non-reentrant lock. */
export class SharedLock implements Owned, ConditionLock {
  #holder: Caller | null = null;
  #locked = false;
  #waiters = new WaitQueue<void>();

  /** Acquires the lock; resolves `false` on timeout or when `block` is false and it is taken. */
  acquire(opts?: BlockingOptions): boolean | Promise<boolean> {
    const caller = currentCaller();
    const { block, timeout } = readAcquire(opts);
    if (!this.#locked) {
      this.#grant(caller);
      return true;
    }
    if (!block || timeout === 0) return false;
    return this.#waiters.wait(caller, timeout).then((r) => r !== TIMED_OUT);
  }

  #grant(caller: Caller): void {
    this.#locked = true;
    this.#holder = caller;
    caller.hold(this);
  }

  /** Releases the lock (any client may); throws when it is not locked. */
  release(): void {
    if (!this.#locked) throw new Error("Cannot release an unlocked lock");
    this.#holder?.unhold(this);
    this.#holder = null;
    const w = this.#waiters.take();
    if (w) {
      this.#grant(w.caller);
      w.resolve(undefined);
    } else {
      this.#locked = false;
    }
  }

  /** True when the lock is taken (diagnostics). */
  locked(): boolean {
    return this.#locked;
  }

  /** @internal */
  releaseOwned(caller: Caller): void {
    if (this.#holder === caller) this.release();
  }

  /** @internal */
  isOwnedBy(caller: Caller): boolean {
    return this.#locked && this.#holder === caller;
  }

  /** @internal */
  saveAndRelease(caller: Caller): number {
    if (this.#holder !== caller) {
      throw new Error("Cannot release a lock held by another client");
    }
    this.release();
    return 1;
  }

  /** @internal */
  restore(caller: Caller, _state: number): void | Promise<void> {
    if (!this.#locked) return this.#grant(caller);
    return this.#waiters.wait(caller).then(() => {});
  }
}
