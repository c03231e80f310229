// The referent behind `SyncManager.Event()` (CPython's `threading.Event`).

import { currentCaller } from "./_caller.ts";
import { checkTimeout } from "./_blocking.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";

/** Server-side event flag. */
export class SharedEvent {
  #flag = false;
  #waiters = new WaitQueue<void>();

  /** True when the flag is set. */
  isSet(): boolean {
    return this.#flag;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    this.#flag = true;
    this.#waiters.wakeAll(undefined);
  }

  /** Clears the flag. */
  clear(): void {
    this.#flag = false;
  }

  /** Waits until the flag is set or `timeout` ms pass; returns the flag. */
  wait(timeout?: number | null): boolean | Promise<boolean> {
    const caller = currentCaller();
    const ms = checkTimeout(timeout);
    if (this.#flag) return true;
    if (ms === 0) return false;
    return this.#waiters.wait(caller, ms).then((r) =>
      r !== TIMED_OUT || this.#flag
    );
  }
}
