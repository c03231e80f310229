/**
 * Option bags shared by the blocking methods of the sharedmem objects.
 *
 * @module
 */

/**
 * Options of the methods that may wait: `acquire`, `Queue#get`, `Queue#put`
 * and their `*Sync` twins. As in CPython, `block: false` never waits and
 * ignores `timeout`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const lock = new mp.Lock();
 * const opts: mp.AcquireOptions = { timeout: 10 };
 * console.assert(await lock.acquire(opts));
 * console.assert(!(await lock.acquire(opts)));
 * lock.release();
 * ```
 */
export interface AcquireOptions {
  /**
   * Wait when the object is not available right away.
   *
   * @default {true}
   */
  block?: boolean;
  /**
   * The longest wait in milliseconds; no limit when left out.
   *
   * @default {undefined}
   */
  timeout?: number;
  /**
   * Cancels the wait: the Promise rejects with `signal.reason` (only the
   * Promise-returning methods take it).
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}

/**
 * Options of the methods that wait on a condition with a positional timeout:
 * `Event#wait`, `Condition#wait`, `Barrier#wait`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const event = new mp.Event();
 * const opts: mp.WaitOptions = { signal: AbortSignal.timeout(1000) };
 * event.set();
 * console.assert(await event.wait(undefined, opts));
 * ```
 */
export interface WaitOptions {
  /**
   * Cancels the wait: the Promise rejects with `signal.reason`.
   *
   * @default {undefined}
   */
  signal?: AbortSignal;
}
