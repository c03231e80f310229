/**
 * `RLock`: a recursive, owner-aware lock in shared memory.
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
  COUNT,
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

const TAG = "mproc.sharedmem.RLock";
let adopting: SharedArrayBuffer | undefined;

/**
 * A recursive lock shared by the main thread and Workers (CPython's
 * `multiprocessing.RLock`): the thread that holds it may take it again, and
 * must release it as many times. The owner is the thread (main thread or
 * Worker), so every async task of one thread counts as the same owner, as
 * with CPython's threads. Only the owner may release it.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const rlock = new mp.RLock();
 * await rlock.acquire();
 * await rlock.acquire(); // same thread: taken again
 * rlock.release();
 * rlock.release();
 * console.assert(!rlock.locked());
 * ```
 */
export class RLock {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;
  #acq: Acquirer;
  #core: LockCore;

  /** Creates an unlocked recursive lock. */
  constructor() {
    this.#sab = adopting ?? new SharedArrayBuffer(LOCK_BYTES);
    const i32 = this.#i32 = new Int32Array(this.#sab);
    const mine = (): boolean => ownedHere(i32);
    const take = (count: number): void => {
      setOwner(i32);
      i32[COUNT] = count;
    };
    this.#acq = {
      tryAcquire(): boolean {
        if (mine()) {
          i32[COUNT]!++;
          return true;
        }
        if (!tryLock(i32, MUTEX)) return false;
        take(1);
        return true;
      },
      *acquire(deadline: number, spin: number): Waiter<boolean> {
        if (!(yield* lock(i32, MUTEX, deadline, false, spin))) return false;
        take(1);
        return true;
      },
      release: () => this.release(),
    };
    this.#core = {
      isMine: mine,
      releaseSave: (): number => {
        const count = i32[COUNT]!;
        i32[COUNT] = 0;
        clearOwner(i32);
        unlock(i32, MUTEX);
        return count;
      },
      *acquireRestore(saved: number): Waiter<void> {
        yield* lockForever(i32, MUTEX);
        take(saved);
      },
    };
  }

  /**
   * Takes the lock, or takes it once more when this thread holds it already.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns Whether the lock was taken.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when `timeout` is negative.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const rlock = new mp.RLock();
   * console.assert(await rlock.acquire({ timeout: 100 }));
   * rlock.release();
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return acquireAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link RLock.acquire}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns Whether the lock was taken.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * rlock.acquireSync();
   * rlock.acquireSync();
   * rlock.release();
   * rlock.release();
   * ```
   */
  acquireSync(options?: Omit<AcquireOptions, "signal">): boolean {
    return acquireBlocking(this.#acq, options, "RLock.acquireSync()");
  }

  /**
   * Releases one level of the lock; the last release frees it.
   *
   * @throws {Error} when this thread does not hold the lock.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const rlock = new mp.RLock();
   * await rlock.acquire();
   * rlock.release();
   * ```
   */
  release(): void {
    const i32 = this.#i32;
    if (!ownedHere(i32)) {
      throw new Error(
        "Cannot release the recursive lock as this thread does not own it",
      );
    }
    if (--i32[COUNT]! === 0) {
      clearOwner(i32);
      unlock(i32, MUTEX);
    }
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
   * console.assert(!new mp.RLock().locked());
   * ```
   */
  locked(): boolean {
    return Atomics.load(this.#i32, MUTEX) !== 0;
  }

  /**
   * Whether this thread holds the lock (CPython's `_is_owned`).
   *
   * @returns True when the calling thread is the owner.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const rlock = new mp.RLock();
   * await rlock.acquire();
   * console.assert(rlock.isOwned());
   * rlock.release();
   * ```
   */
  isOwned(): boolean {
    return this.#core.isMine();
  }

  /**
   * How many times the owner holds the lock (0 when free).
   *
   * @returns The recursion level.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const rlock = new mp.RLock();
   * await rlock.acquire();
   * await rlock.acquire();
   * console.assert(rlock.count() === 2);
   * rlock.release();
   * rlock.release();
   * ```
   */
  count(): number {
    return Atomics.load(this.#i32, COUNT);
  }

  /**
   * Takes the lock and resolves a {@link LockScope} releasing one level when
   * disposed.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns The held scope.
   * @throws {TimeoutError} (rejection) when the lock was not taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const rlock = new mp.RLock();
   * {
   *   await using _outer = await rlock.scope();
   *   await using _inner = await rlock.scope();
   *   console.assert(rlock.count() === 2);
   * }
   * console.assert(!rlock.locked());
   * ```
   */
  scope(options?: AcquireOptions): Promise<LockScope> {
    return scopeAsync(this.#acq, options);
  }

  /**
   * The blocking twin of {@link RLock.scope}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns The held scope.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * using _held = rlock.scopeSync();
   * ```
   */
  scopeSync(options?: Omit<AcquireOptions, "signal">): LockScope {
    return scopeBlocking(this.#acq, options, "RLock.scopeSync()");
  }

  /**
   * The handle that carries this lock across `postMessage`.
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
    return new RLock();
  } finally {
    adopting = undefined;
  }
});
