/**
 * `Event`: a shared flag that threads can wait for.
 *
 * @module
 */

import {
  registerReviver,
  TRANSFER,
  type TransferHandle,
} from "../_transfer.ts";
import {
  checkSignal,
  checkTimeout,
  now,
  runAsync,
  runSync,
  type Waiter,
} from "./_futex.ts";
import { assertCanBlock } from "./_thread.ts";
import type { WaitOptions } from "./options.ts";

const TAG = "mproc.sharedmem.Event";
/** Int32 words: the flag, and a counter of set() calls waiters sleep on. */
const FLAG = 0;
const SETS = 1;
const BYTES = 8;
let adopting: SharedArrayBuffer | undefined;

/**
 * Waits until the flag is set. A `set()` that happened after the wait began
 * counts even when `clear()` followed before this waiter ran again: as with
 * CPython's `threading.Event`, the wait then returns true (it never misses a
 * set-then-clear pulse).
 */
function* waitFlag(i32: Int32Array, deadline: number): Waiter<boolean> {
  const sets = Atomics.load(i32, SETS);
  for (;;) {
    if (Atomics.load(i32, FLAG) !== 0) return true;
    if (Atomics.load(i32, SETS) !== sets) return true;
    if (now() >= deadline) return false;
    yield { i32, index: SETS, value: sets, deadline };
  }
}

function deadlineIn(timeout: unknown): number {
  const ms = checkTimeout(timeout);
  return ms === undefined ? Infinity : now() + ms;
}

/**
 * A flag shared by the main thread and Workers (CPython's
 * `multiprocessing.Event`): `set()` wakes every waiter, `clear()` resets it,
 * `wait(ms)` resolves `true` once set or `false` on timeout.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const event = new mp.Event();
 * console.assert(!(await event.wait(10)));
 * setTimeout(() => event.set(), 5);
 * console.assert(await event.wait());
 * console.assert(event.isSet());
 * ```
 */
export class Event {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;

  /** Creates a cleared event. */
  constructor() {
    this.#sab = adopting ?? new SharedArrayBuffer(BYTES);
    this.#i32 = new Int32Array(this.#sab);
  }

  /**
   * Whether the flag is set.
   *
   * @returns The flag.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(!new mp.Event().isSet());
   * ```
   */
  isSet(): boolean {
    return Atomics.load(this.#i32, FLAG) !== 0;
  }

  /**
   * Sets the flag and wakes every waiter.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const event = new mp.Event();
   * event.set();
   * console.assert(event.isSet());
   * ```
   */
  set(): void {
    Atomics.store(this.#i32, FLAG, 1);
    Atomics.add(this.#i32, SETS, 1);
    Atomics.notify(this.#i32, SETS);
  }

  /**
   * Clears the flag.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const event = new mp.Event();
   * event.set();
   * event.clear();
   * console.assert(!event.isSet());
   * ```
   */
  clear(): void {
    Atomics.store(this.#i32, FLAG, 0);
  }

  /**
   * Waits until the flag is set.
   *
   * @param timeout The longest wait in ms; none when left out.
   * @param options `signal` to cancel the wait.
   * @returns `true` when the flag is set, `false` on timeout.
   * @throws {TypeError} (rejection) when `timeout` is not a number.
   * @throws {RangeError} (rejection) when `timeout` is negative.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const event = new mp.Event();
   * console.assert((await event.wait(0)) === false);
   * ```
   */
  wait(timeout?: number, options?: WaitOptions): Promise<boolean> {
    try {
      const deadline = deadlineIn(timeout);
      const signal = checkSignal(options?.signal);
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (this.isSet()) return Promise.resolve(true);
      return runAsync(waitFlag(this.#i32, deadline), signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The blocking twin of {@link Event.wait}, for Workers.
   *
   * @param timeout The longest wait in ms; none when left out.
   * @returns `true` when the flag is set, `false` on timeout.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * if (!event.waitSync(1000)) throw new Error("not started");
   * ```
   */
  waitSync(timeout?: number): boolean {
    const deadline = deadlineIn(timeout);
    assertCanBlock("Event.waitSync()");
    return runSync(waitFlag(this.#i32, deadline));
  }

  /**
   * The handle that carries this event across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return { tag: TAG, module: import.meta.url, data: this.#sab };
  }
}

registerReviver(TAG, (data) => {
  adopting = data as SharedArrayBuffer;
  try {
    return new Event();
  } finally {
    adopting = undefined;
  }
});
