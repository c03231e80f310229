/**
 * `Lock`: a non-recursive lock in shared memory.
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
import type { Waiter } from "./_futex.ts";
import {
  clearOwner,
  LOCK_BYTES,
  LOCK_CORE,
  type LockCore,
  MUTEX,
  ownedHere,
  setOwner,
} from "./_lock_core.ts";
import { lock, lockForever, tryLock, unlock } from "./_mutex.ts";
import type { LockScope } from "./lock_scope.ts";
import type { AcquireOptions } from "./options.ts";

const TAG = "mproc.sharedmem.Lock";
let adopting: SharedArrayBuffer | undefined;

/**
 * A lock shared by the main thread and Workers of this process (CPython's
 * `multiprocessing.Lock`), built on `Atomics` over a `SharedArrayBuffer`.
 * `acquire()` never blocks the event loop; inside Workers, `acquireSync()`
 * blocks the thread. As in CPython, any thread may release it. Passed as a
 * Pool task argument or posted to a Worker (see {@link toPostable}), it
 * arrives as a handle on the same lock. A Worker terminated while holding
 * it leaves it held (as a process killed holding CPython's lock does).
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const lock = new mp.Lock();
 * console.assert(await lock.acquire());
 * console.assert(!(await lock.acquire({ block: false })));
 * lock.release();
 *
 * {
 *   await using _held = await lock.scope(); // released at the end of the block
 * }
 * console.assert(!lock.locked());
 * ```
 */
export class Lock {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;
  #acq: Acquirer;
  #core: LockCore;

  /** Creates an unlocked lock. */
  constructor() {
    this.#sab = adopting ?? new SharedArrayBuffer(LOCK_BYTES);
    const i32 = this.#i32 = new Int32Array(this.#sab);
    this.#acq = {
      tryAcquire(): boolean {
        if (!tryLock(i32, MUTEX)) return false;
        setOwner(i32);
        return true;
      },
      *acquire(deadline: number, spin: number): Waiter<boolean> {
        if (!(yield* lock(i32, MUTEX, deadline, false, spin))) return false;
        setOwner(i32);
        return true;
      },
      release: () => this.release(),
    };
    this.#core = {
      isMine: (): boolean => Atomics.load(i32, MUTEX) !== 0 && ownedHere(i32),
      releaseSave: (): number => {
        this.release();
        return 1;
      },
      *acquireRestore(): Waiter<void> {
        yield* lockForever(i32, MUTEX);
        setOwner(i32);
      },
    };
  }

  /**
   * Takes the lock. Resolves `true` once taken, `false` when `block: false`
   * finds it taken or `timeout` (ms) passes first.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns Whether the lock was taken.
   * @throws {TypeError} (rejection) when an option has the wrong type.
   * @throws {RangeError} (rejection) when `timeout` is negative.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * console.assert(await lock.acquire({ timeout: 100 }));
   * console.assert(!(await lock.acquire({ timeout: 10 })));
   * lock.release();
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link Lock.acquire}, for CPU-bound code in Workers.
   *
   * @param options `block`, `timeout` (ms); `signal` is ignored.
   * @returns Whether the lock was taken.
   * @throws {Error} on the main thread, where it would block the event loop.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * lock.acquireSync();
   * try {
   *   counter.value += 1;
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  acquireSync(options?: Omit<AcquireOptions, "signal">): boolean {
    return acquireBlocking(this.#acq, options, "Lock.acquireSync()");
  }

  /**
   * Releases the lock (any thread may, as in CPython).
   *
   * @throws {RangeError} when the lock is not taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * await lock.acquire();
   * lock.release();
   * ```
   */
  release(): void {
    if (Atomics.load(this.#i32, MUTEX) === 0) {
      throw new RangeError("Cannot release the lock as it is not locked");
    }
    clearOwner(this.#i32);
    unlock(this.#i32, MUTEX);
  }

  /**
   * Whether some thread holds the lock right now.
   *
   * @returns True when the lock is taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * console.assert(!lock.locked());
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#i32, MUTEX) !== 0;
  }

  /**
   * Takes the lock and resolves a {@link LockScope} that releases it when
   * disposed (`using` or `await using`).
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns The held scope.
   * @throws {TimeoutError} (rejection) when the lock was not taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * {
   *   using _held = await lock.scope({ timeout: 1000 });
   *   console.assert(lock.locked());
   * }
   * console.assert(!lock.locked());
   * ```
   */
  scope(options?: AcquireOptions): Promise<LockScope> {
    return scopeAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link Lock.scope}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns The held scope.
   * @throws {TimeoutError} when the lock was not taken.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * using _held = lock.scopeSync();
   * counter.value += 1;
   * ```
   */
  scopeSync(options?: Omit<AcquireOptions, "signal">): LockScope {
    return scopeBlocking(this.#acq, options, "Lock.scopeSync()");
  }

  /**
   * The handle that carries this lock across `postMessage` (used by the Pool
   * and {@link toPostable}).
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return { tag: TAG, module: import.meta.url, data: this.#sab };
  }

  /**
   * Internal interface used by `Condition`.
   *
   * @returns The lock's core operations.
   *
   * @ignore
   */
  [LOCK_CORE](): LockCore {
    return this.#core;
  }
}

registerReviver(TAG, (data) => {
  adopting = data as SharedArrayBuffer;
  try {
    return new Lock();
  } finally {
    adopting = undefined;
  }
});
