// The referents behind `SyncManager.Semaphore()` / `BoundedSemaphore()`
// (CPython's `threading.Semaphore` / `BoundedSemaphore`). Units acquired by a
// client and not released are given back if it disconnects; a release by a
// client that holds none is counted against the oldest holder.

import { type Caller, currentCaller, type Owned } from "./_caller.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import { readAcquire } from "./_blocking.ts";
import type { BlockingOptions } from "./options.ts";

/** Server-side counting semaphore. */
export class SharedSemaphore implements Owned {
  #value: number;
  #waiters = new WaitQueue<void>();
  #holders = new Map<Caller, number>();

  /** Creates a semaphore with `value` units (default 1). */
  constructor(value: number = 1) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(
        `Cannot create the semaphore as its value must be an integer: received ${
          String(value)
        }`,
      );
    }
    if (value < 0) {
      throw new RangeError(
        `Cannot create the semaphore as its value must be >= 0: received ${value}`,
      );
    }
    this.#value = value;
  }

  /** The units available now. */
  getValue(): number {
    return this.#value;
  }

  #grant(caller: Caller): void {
    this.#holders.set(caller, (this.#holders.get(caller) ?? 0) + 1);
    caller.hold(this);
  }

  #ungrant(caller: Caller): void {
    const n = this.#holders.get(caller);
    if (n === undefined) return;
    if (n <= 1) {
      this.#holders.delete(caller);
      caller.unhold(this);
    } else {
      this.#holders.set(caller, n - 1);
    }
  }

  /** Takes one unit; `false` on timeout or non-blocking failure. */
  acquire(opts?: BlockingOptions): boolean | Promise<boolean> {
    const caller = currentCaller();
    const { block, timeout } = readAcquire(opts);
    if (this.#value > 0) {
      this.#value--;
      this.#grant(caller);
      return true;
    }
    if (!block || timeout === 0) return false;
    return this.#waiters.wait(caller, timeout).then((r) => r !== TIMED_OUT);
  }

  /** Checks a release of `n` units before it happens (bounded semaphores refuse overflow). */
  protected checkRelease(_n: number, _value: number): void {}

  /** Gives back `n` units (default 1), waking waiters. */
  release(n: number = 1): void {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1) {
      throw new RangeError(
        `Cannot release as n must be an integer >= 1: received ${String(n)}`,
      );
    }
    this.checkRelease(n, this.#value);
    const caller = currentCaller();
    for (let i = 0; i < n; i++) {
      if (this.#holders.has(caller)) this.#ungrant(caller);
      else {
        const first = this.#holders.keys().next();
        if (!first.done) this.#ungrant(first.value);
      }
      this.#releaseOne();
    }
  }

  #releaseOne(): void {
    const w = this.#waiters.take();
    if (w) {
      this.#grant(w.caller);
      w.resolve(undefined);
    } else {
      this.#value++;
    }
  }

  /** @internal */
  releaseOwned(caller: Caller): void {
    const n = this.#holders.get(caller) ?? 0;
    this.#holders.delete(caller);
    for (let i = 0; i < n; i++) this.#releaseOne();
  }
}

/** Server-side semaphore that refuses to be released above its initial value. */
export class SharedBoundedSemaphore extends SharedSemaphore {
  #initial: number;

  /** Creates a bounded semaphore with `value` units (default 1). */
  constructor(value: number = 1) {
    super(value);
    this.#initial = value;
  }

  /** @internal */
  protected override checkRelease(n: number, value: number): void {
    if (value + n > this.#initial) {
      throw new RangeError(
        "Cannot release the semaphore as it was released too many times",
      );
    }
  }
}
