/**
 * The disposable handle returned by `scope()` / `scopeSync()` of the
 * sharedmem locks and semaphores.
 *
 * @module
 */

/**
 * A held lock (or semaphore slot) that is released when the scope ends:
 * `using` calls `[Symbol.dispose]`, `await using` calls
 * `[Symbol.asyncDispose]`, and `release()` does it by hand. Releasing twice is
 * a no-op.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const lock = new mp.Lock();
 * {
 *   using _held = await lock.scope();
 *   console.assert(lock.locked());
 * }
 * console.assert(!lock.locked());
 * ```
 */
export class LockScope implements Disposable, AsyncDisposable {
  #release: (() => void) | undefined;

  /**
   * Wraps an already-taken lock. Normally obtained from `scope()`.
   *
   * @param release Releases what was taken; called at most once.
   */
  constructor(release: () => void) {
    this.#release = release;
  }

  /**
   * True until the scope has released what it holds.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * const scope = await lock.scope();
   * console.assert(scope.held);
   * scope.release();
   * console.assert(!scope.held);
   * ```
   */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /**
   * Releases what the scope holds (once).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * const scope = await lock.scope();
   * scope.release();
   * scope.release(); // no-op
   * console.assert(!lock.locked());
   * ```
   */
  release(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  /**
   * Releases what the scope holds (for `using`).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * {
   *   using _held = await lock.scope();
   *   console.assert(lock.locked());
   * }
   * console.assert(!lock.locked());
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }

  /**
   * Releases what the scope holds (for `await using`).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const lock = new mp.Lock();
   * {
   *   await using _held = await lock.scope();
   *   console.assert(lock.locked());
   * }
   * console.assert(!lock.locked());
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}
