// The referent behind `SyncManager.Condition(lock?)` (CPython's
// `threading.Condition`): wraps a Lock or RLock referent (default: a new
// RLock); `wait(timeout)` releases it, waits for a notify and reacquires it.
// A waiter whose client disconnects is cancelled and never reacquires.

import { currentCaller } from "./_caller.ts";
import { checkTimeout } from "./_blocking.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import type { ConditionLock } from "./_lockable.ts";
import type { BlockingOptions } from "./options.ts";
import { SharedLock } from "./lock.ts";
import { SharedRLock } from "./rlock.ts";

/** Server-side condition variable. */
export class SharedCondition {
  #lock: SharedLock | SharedRLock;
  #waiters = new WaitQueue<void>();

  /** Creates a condition over `lock` (a Lock or RLock of the same server). */
  constructor(lock?: SharedLock | SharedRLock | null) {
    if (lock === undefined || lock === null) lock = new SharedRLock();
    if (!(lock instanceof SharedLock) && !(lock instanceof SharedRLock)) {
      throw new TypeError(
        "Cannot create the condition as its lock must be a Lock or RLock proxy of the same manager",
      );
    }
    this.#lock = lock;
  }

  /** Acquires the underlying lock. */
  acquire(opts?: BlockingOptions): boolean | Promise<boolean> {
    return this.#lock.acquire(opts);
  }

  /** Releases the underlying lock. */
  release(): void {
    return this.#lock.release();
  }

  /** Waits for a notify (or `timeout` ms); `false` on timeout. The lock must be held. */
  async wait(timeout?: number | null): Promise<boolean> {
    const caller = currentCaller();
    const ms = checkTimeout(timeout);
    const lock: ConditionLock = this.#lock;
    if (!lock.isOwnedBy(caller)) {
      throw new Error("Cannot wait on an un-acquired lock");
    }
    const state = lock.saveAndRelease(caller);
    const r = await this.#waiters.wait(caller, ms);
    await lock.restore(caller, state);
    return r !== TIMED_OUT;
  }

  #checkOwned(what: string): void {
    if (!(this.#lock as ConditionLock).isOwnedBy(currentCaller())) {
      throw new Error(`Cannot ${what} on an un-acquired lock`);
    }
  }

  /** Wakes up to `n` waiters (default 1). The lock must be held. */
  notify(n: number = 1): void {
    this.#checkOwned("notify");
    for (let i = 0; i < n && this.#waiters.wakeOne(undefined); i++);
  }

  /** Wakes every waiter. The lock must be held. */
  notifyAll(): void {
    this.#checkOwned("notify");
    this.#waiters.wakeAll(undefined);
  }
}
