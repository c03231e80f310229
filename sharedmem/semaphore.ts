/**
 * `Semaphore` and `BoundedSemaphore` in shared memory.
 *
 * @module
 */

import {
  registerReviver,
  TRANSFER,
  type TransferHandle,
} from "../_transfer.ts";
import {
  acquireAsync,
  acquireBlocking,
  type Acquirer,
  scopeAsync,
  scopeBlocking,
} from "./_acquire.ts";
import { now, type Waiter } from "./_futex.ts";
import type { LockScope } from "./lock_scope.ts";
import type { AcquireOptions } from "./options.ts";

const TAG = "mproc.sharedmem.Semaphore";
const BOUNDED_TAG = "mproc.sharedmem.BoundedSemaphore";
/** Int32 words: the counter, the number of sleepers, the bound (-1: none). */
const VALUE = 0;
const WAITERS = 1;
const BOUND = 2;
const MAX_VALUE = 2 ** 31 - 1;
let adopting: SharedArrayBuffer | undefined;

function tryDecrement(i32: Int32Array): boolean {
  let v = Atomics.load(i32, VALUE);
  while (v > 0) {
    const seen = Atomics.compareExchange(i32, VALUE, v, v - 1);
    if (seen === v) return true;
    v = seen;
  }
  return false;
}

function* waitDecrement(
  i32: Int32Array,
  deadline: number,
  spin: number,
): Waiter<boolean> {
  for (let s = 0; s < spin; s++) {
    if (Atomics.load(i32, VALUE) > 0 && tryDecrement(i32)) return true;
  }
  Atomics.add(i32, WAITERS, 1);
  try {
    for (;;) {
      if (tryDecrement(i32)) return true;
      if (now() >= deadline) return false;
      yield { i32, index: VALUE, value: 0, deadline };
    }
  } finally {
    Atomics.sub(i32, WAITERS, 1);
  }
}

/**
 * A counting semaphore shared by the main thread and Workers (CPython's
 * `multiprocessing.Semaphore`): `acquire()` takes one unit, waiting while the
 * counter is 0; `release()` gives one back.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const sem = new mp.Semaphore(2);
 * await sem.acquire();
 * await sem.acquire();
 * console.assert(!(await sem.acquire({ block: false })));
 * sem.release();
 * console.assert(sem.getValue() === 1);
 * ```
 */
export class Semaphore {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;
  #acq: Acquirer;

  /**
   * Creates a semaphore whose counter starts at `value`.
   *
   * @param value The initial counter, an integer ≥ 0.
   * @throws {TypeError} when `value` is not an integer.
   * @throws {RangeError} when `value` is negative or above 2^31 - 1.
   */
  constructor(value = 1) {
    if (adopting) {
      this.#sab = adopting;
    } else {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new TypeError(
          `Cannot create the semaphore as its value is not an integer: current value is ${
            String(value)
          }`,
        );
      }
      if (value < 0 || value > MAX_VALUE) {
        throw new RangeError(
          `Cannot create the semaphore as its value must be between 0 and ${MAX_VALUE}: current value is ${value}`,
        );
      }
      this.#sab = new SharedArrayBuffer(12);
      const init = new Int32Array(this.#sab);
      init[VALUE] = value;
      init[BOUND] = this instanceof BoundedSemaphore ? value : -1;
    }
    const i32 = this.#i32 = new Int32Array(this.#sab);
    this.#acq = {
      tryAcquire: (): boolean => tryDecrement(i32),
      acquire: (deadline: number, spin: number): Waiter<boolean> =>
        waitDecrement(i32, deadline, spin),
      release: () => this.release(),
    };
  }

  /**
   * Takes one unit, waiting while the counter is 0.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns Whether a unit was taken.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when `timeout` is negative.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const sem = new mp.Semaphore(0);
   * console.assert(!(await sem.acquire({ timeout: 10 })));
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link Semaphore.acquire}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns Whether a unit was taken.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * sem.acquireSync();
   * ```
   */
  acquireSync(options?: Omit<AcquireOptions, "signal">): boolean {
    return acquireBlocking(this.#acq, options, "Semaphore.acquireSync()");
  }

  /**
   * Gives one unit back, waking one waiter.
   *
   * @throws {RangeError} on a `BoundedSemaphore` released above its initial
   * value, or when the counter would pass 2^31 - 1.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const sem = new mp.Semaphore(0);
   * sem.release();
   * console.assert(sem.getValue() === 1);
   * ```
   */
  release(): void {
    const i32 = this.#i32;
    const bound = Atomics.load(i32, BOUND);
    const max = bound < 0 ? MAX_VALUE : bound;
    let v = Atomics.load(i32, VALUE);
    for (;;) {
      if (v >= max) {
        throw new RangeError(
          bound < 0
            ? `Cannot release the semaphore as its value would pass ${MAX_VALUE}`
            : `Cannot release the semaphore as it was released too many times: current value is ${v}`,
        );
      }
      const seen = Atomics.compareExchange(i32, VALUE, v, v + 1);
      if (seen === v) break;
      v = seen;
    }
    if (Atomics.load(i32, WAITERS) > 0) Atomics.notify(i32, VALUE, 1);
  }

  /**
   * The current counter (CPython's `get_value()`).
   *
   * @returns The number of units available.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.Semaphore(3).getValue() === 3);
   * ```
   */
  getValue(): number {
    return Atomics.load(this.#i32, VALUE);
  }

  /**
   * Takes one unit and resolves a {@link LockScope} giving it back when
   * disposed.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns The held scope.
   * @throws {TimeoutError} (rejection) when no unit was taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const sem = new mp.Semaphore(1);
   * {
   *   using _slot = await sem.scope();
   *   console.assert(sem.getValue() === 0);
   * }
   * console.assert(sem.getValue() === 1);
   * ```
   */
  scope(options?: AcquireOptions): Promise<LockScope> {
    return scopeAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link Semaphore.scope}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns The held scope.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * using _slot = sem.scopeSync();
   * ```
   */
  scopeSync(options?: Omit<AcquireOptions, "signal">): LockScope {
    return scopeBlocking(this.#acq, options, "Semaphore.scopeSync()");
  }

  /**
   * The handle that carries this semaphore across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    const bounded = Atomics.load(this.#i32, BOUND) >= 0;
    return {
      tag: bounded ? BOUNDED_TAG : TAG,
      module: import.meta.url,
      data: this.#sab,
    };
  }
}

/**
 * A semaphore that refuses to be released above its initial value (CPython's
 * `multiprocessing.BoundedSemaphore`, whose `ValueError` is a `RangeError`
 * here).
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const sem = new mp.BoundedSemaphore(1);
 * try {
 *   sem.release();
 * } catch (e) {
 *   console.assert(e instanceof RangeError);
 * }
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  /**
   * Creates a bounded semaphore whose counter starts (and is capped) at
   * `value`.
   *
   * @param value The initial counter and bound, an integer ≥ 0.
   * @throws {TypeError} when `value` is not an integer.
   * @throws {RangeError} when `value` is negative or above 2^31 - 1.
   */
  constructor(value = 1) {
    super(value);
  }
}

function revive(data: unknown, bounded: boolean): Semaphore {
  adopting = data as SharedArrayBuffer;
  try {
    return bounded ? new BoundedSemaphore() : new Semaphore();
  } finally {
    adopting = undefined;
  }
}

registerReviver(TAG, (data) => revive(data, false));
registerReviver(BOUNDED_TAG, (data) => revive(data, true));
