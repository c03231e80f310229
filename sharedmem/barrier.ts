/**
 * `Barrier`: a rendezvous point for a fixed number of parties.
 *
 * @module
 */

import { BrokenBarrierError } from "../errors.ts";
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
import { lockForever, lockNow, unlock } from "./_mutex.ts";
import { assertCanBlock, IN_WORKER } from "./_thread.ts";
import type { WaitOptions } from "./options.ts";

const TAG = "mproc.sharedmem.Barrier";
/** Int32 words (CPython's algorithm: an internal lock, state, count, a change counter). */
const MUTEX = 0;
const STATE = 1;
const COUNT = 2;
const SEQ = 3;
const PARTIES = 4;
/** Float64 index of the default timeout (NaN: none). */
const TIMEOUT = 3;
const BYTES = 32;
const FILLING = 0;
const DRAINING = 1;
const RESETTING = -1;
const BROKEN = -2;

let adopting: SharedArrayBuffer | undefined;

/**
 * Options of the {@link Barrier} constructor.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const opts: mp.SharedBarrierOptions = { timeout: 10 };
 * const barrier = new mp.Barrier(2, opts);
 * await barrier.wait().catch((e) => console.assert(e.name === "BrokenBarrierError"));
 * ```
 */
export interface SharedBarrierOptions {
  /**
   * The default timeout in ms of {@link Barrier.wait}; none when left out.
   *
   * @default {undefined}
   */
  timeout?: number;
}

/** Releases the internal lock, waits for a change (or the deadline), re-takes it. */
function* waitChange(i32: Int32Array, deadline: number): Waiter<void> {
  const seen = Atomics.load(i32, SEQ);
  unlock(i32, MUTEX);
  try {
    if (now() < deadline) yield { i32, index: SEQ, value: seen, deadline };
  } finally {
    yield* lockForever(i32, MUTEX);
  }
}

/** Wakes every waiter (the caller holds the internal lock). */
function changed(i32: Int32Array): void {
  Atomics.add(i32, SEQ, 1);
  Atomics.notify(i32, SEQ);
}

function breakBarrier(i32: Int32Array): void {
  Atomics.store(i32, STATE, BROKEN);
  changed(i32);
}

function* barrierWait(i32: Int32Array, deadline: number): Waiter<number> {
  yield* lockForever(i32, MUTEX);
  try {
    // Wait while the previous generation drains or a reset completes.
    for (;;) {
      const state = Atomics.load(i32, STATE);
      if (state !== DRAINING && state !== RESETTING) break;
      yield* waitChange(i32, Infinity);
    }
    if (Atomics.load(i32, STATE) < 0) throw new BrokenBarrierError();
    const index = Atomics.add(i32, COUNT, 1);
    try {
      if (index + 1 === Atomics.load(i32, PARTIES)) {
        Atomics.store(i32, STATE, DRAINING);
        changed(i32);
      } else {
        while (Atomics.load(i32, STATE) === FILLING) {
          if (now() >= deadline) {
            breakBarrier(i32);
            throw new BrokenBarrierError(
              "Cannot pass the barrier as the wait timed out",
            );
          }
          yield* waitChange(i32, deadline);
        }
        if (Atomics.load(i32, STATE) < 0) throw new BrokenBarrierError();
      }
      return index;
    } catch (e) {
      // A waiter that leaves abnormally (abort) breaks the barrier, as a
      // timeout does, so that the others are not left waiting forever.
      if (
        !(e instanceof BrokenBarrierError) &&
        Atomics.load(i32, STATE) === FILLING
      ) breakBarrier(i32);
      throw e;
    } finally {
      if (Atomics.sub(i32, COUNT, 1) === 1) {
        const state = Atomics.load(i32, STATE);
        if (state === RESETTING || state === DRAINING) {
          Atomics.store(i32, STATE, FILLING);
          changed(i32);
        }
      }
    }
  } finally {
    unlock(i32, MUTEX);
  }
}

/**
 * A barrier for `parties` threads/tasks shared by the main thread and Workers
 * (CPython's `multiprocessing.Barrier`, without `action`). `wait()` resolves
 * once `parties` callers are waiting, with a distinct index in
 * `0..parties-1`; a timeout, `abort()` or `reset()` breaks it, and every
 * waiter rejects with `BrokenBarrierError`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const barrier = new mp.Barrier(2);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait()]);
 * console.assert(indexes.sort().join() === "0,1");
 * ```
 */
export class Barrier {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;
  #f64: Float64Array;

  /**
   * Creates a barrier for `parties` parties.
   *
   * @param parties How many callers of `wait()` pass together (≥ 1).
   * @param options `timeout`: the default timeout of `wait()`, in ms.
   * @throws {TypeError} when `parties` is not an integer.
   * @throws {RangeError} when `parties` < 1 or the timeout is negative.
   */
  constructor(parties: number, options: SharedBarrierOptions = {}) {
    this.#sab = adopting ?? new SharedArrayBuffer(BYTES);
    this.#i32 = new Int32Array(this.#sab);
    this.#f64 = new Float64Array(this.#sab);
    if (!adopting) {
      if (typeof parties !== "number" || !Number.isInteger(parties)) {
        throw new TypeError(
          `Cannot create the barrier as parties is not an integer: current value is ${
            String(parties)
          }`,
        );
      }
      if (parties < 1 || parties > 2 ** 31 - 1) {
        throw new RangeError(
          `Cannot create the barrier as parties must be at least 1: current value is ${parties}`,
        );
      }
      const timeout = checkTimeout(options.timeout);
      this.#i32[PARTIES] = parties;
      this.#f64[TIMEOUT] = timeout ?? NaN;
    }
  }

  #deadline(timeout: unknown): number {
    const fallback = this.#f64[TIMEOUT]!;
    const ms = checkTimeout(timeout) ??
      (Number.isNaN(fallback) ? undefined : fallback);
    return ms === undefined ? Infinity : now() + ms;
  }

  /**
   * Waits until `parties` callers wait, then resolves with this caller's
   * index (the last to arrive gets `parties - 1`).
   *
   * @param timeout The longest wait in ms (default: the constructor's);
   *   passing it breaks the barrier.
   * @param options `signal`: an abort breaks the barrier too.
   * @returns The arrival index.
   * @throws {BrokenBarrierError} (rejection) when the barrier is or gets broken.
   *
   * @example Usage
   * ```ts
   * import { BrokenBarrierError } from "@mproc/multiprocessing";
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const barrier = new mp.Barrier(2);
   * try {
   *   await barrier.wait(10);
   * } catch (e) {
   *   console.assert(e instanceof BrokenBarrierError);
   * }
   * console.assert(barrier.broken());
   * ```
   */
  wait(timeout?: number, options?: WaitOptions): Promise<number> {
    try {
      const deadline = this.#deadline(timeout);
      const signal = checkSignal(options?.signal);
      return runAsync(barrierWait(this.#i32, deadline), signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The blocking twin of {@link Barrier.wait}, for Workers.
   *
   * @param timeout The longest wait in ms (default: the constructor's).
   * @returns The arrival index.
   * @throws {BrokenBarrierError} when the barrier is or gets broken.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * const index = barrier.waitSync(1000);
   * ```
   */
  waitSync(timeout?: number): number {
    const deadline = this.#deadline(timeout);
    assertCanBlock("Barrier.waitSync()");
    return runSync(barrierWait(this.#i32, deadline));
  }

  /**
   * Returns the barrier to its initial state; current waiters reject with
   * `BrokenBarrierError`.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const barrier = new mp.Barrier(2);
   * barrier.abort();
   * barrier.reset();
   * console.assert(!barrier.broken());
   * ```
   */
  reset(): void {
    const i32 = this.#i32;
    lockNow(i32, MUTEX, IN_WORKER);
    try {
      if (Atomics.load(i32, COUNT) > 0) {
        const state = Atomics.load(i32, STATE);
        if (state === FILLING || state === BROKEN) {
          Atomics.store(i32, STATE, RESETTING);
        }
      } else {
        Atomics.store(i32, STATE, FILLING);
      }
      changed(i32);
    } finally {
      unlock(i32, MUTEX);
    }
  }

  /**
   * Breaks the barrier: current and future waiters reject with
   * `BrokenBarrierError` until `reset()`.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const barrier = new mp.Barrier(3);
   * barrier.abort();
   * console.assert(barrier.broken());
   * ```
   */
  abort(): void {
    const i32 = this.#i32;
    lockNow(i32, MUTEX, IN_WORKER);
    try {
      breakBarrier(i32);
    } finally {
      unlock(i32, MUTEX);
    }
  }

  /**
   * How many parties must wait for the barrier to open.
   *
   * @returns The number of parties.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.Barrier(4).parties() === 4);
   * ```
   */
  parties(): number {
    return Atomics.load(this.#i32, PARTIES);
  }

  /**
   * How many parties wait right now (0 while draining or broken).
   *
   * @returns The number of waiters.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.Barrier(2).nWaiting() === 0);
   * ```
   */
  nWaiting(): number {
    return Atomics.load(this.#i32, STATE) === FILLING
      ? Atomics.load(this.#i32, COUNT)
      : 0;
  }

  /**
   * Whether the barrier is broken.
   *
   * @returns True after a timeout or `abort()`, until `reset()`.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(!new mp.Barrier(2).broken());
   * ```
   */
  broken(): boolean {
    return Atomics.load(this.#i32, STATE) === BROKEN;
  }

  /**
   * The handle that carries this barrier across `postMessage`.
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
    return new Barrier(0);
  } finally {
    adopting = undefined;
  }
});
