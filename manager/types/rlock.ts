// The referent behind `SyncManager.RLock()` (CPython's `threading.RLock`): the
// owner is the client connection whose acquire succeeded; it may acquire
// again, and must release as many times. Released for good if the owner
// disconnects.

import { type Caller, currentCaller, type Owned } from "./_caller.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import { readAcquire } from "./_blocking.ts";
import type { ConditionLock } from "./_lockable.ts";
import type { BlockingOptions } from "./options.ts";

/** Server-side reentrant lock. */
export class SharedRLock implements Owned, ConditionLock {
  #owner: Caller | null = null;
  #count = 0;
  /** Waiter data: the recursion count to restore on grant. */
  #waiters = new WaitQueue<void>();

  /** Acquires the lock (again, for its owner); `false` on timeout or non-blocking failure. */
  acquire(opts?: BlockingOptions): boolean | Promise<boolean> {
    const caller = currentCaller();
    const { block, timeout } = readAcquire(opts);
    if (this.#owner === caller) {
      this.#count++;
      return true;
    }
    if (this.#owner === null) {
      this.#grant(caller, 1);
      return true;
    }
    if (!block || timeout === 0) return false;
    return this.#waiters.wait(caller, timeout, 1).then((r) => r !== TIMED_OUT);
  }

  #grant(caller: Caller, count: number): void {
    this.#owner = caller;
    this.#count = count;
    caller.hold(this);
  }

  #handOff(): void {
    const prev = this.#owner;
    this.#owner = null;
    this.#count = 0;
    prev?.unhold(this);
    const w = this.#waiters.take();
    if (w) {
      this.#grant(w.caller, w.data as number);
      w.resolve(undefined);
    }
  }

  /** Releases one level; throws when the calling client does not own it. */
  release(): void {
    const caller = currentCaller();
    if (this.#owner !== caller) {
      throw new Error("Cannot release an un-acquired lock");
    }
    if (--this.#count === 0) this.#handOff();
  }

  /** @internal */
  releaseOwned(caller: Caller): void {
    if (this.#owner === caller) this.#handOff();
  }

  /** @internal */
  isOwnedBy(caller: Caller): boolean {
    return this.#owner === caller;
  }

  /** @internal */
  saveAndRelease(caller: Caller): number {
    if (this.#owner !== caller) {
      throw new Error("Cannot release an un-acquired lock");
    }
    const n = this.#count;
    this.#handOff();
    return n;
  }

  /** @internal */
  restore(caller: Caller, state: number): void | Promise<void> {
    if (this.#owner === null) return this.#grant(caller, state);
    return this.#waiters.wait(caller, undefined, state).then(() => {});
  }
}
