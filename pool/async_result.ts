/**
 * {@link AsyncResult}: the handle returned by `applyAsync`, `mapAsync` and
 * `starmapAsync`.
 *
 * @module
 */

import { TimeoutError } from "../errors.ts";

const PENDING = 0;
const OK = 1;
const FAILED = 2;
/** The longest delay setTimeout accepts (ms). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Callbacks run when an {@link AsyncResult} settles (as CPython's `callback` / `error_callback`).
 *
 * @example Usage
 * ```ts
 * import { type AsyncResultCallbacks, Pool } from "@mproc/multiprocessing/pool";
 *
 * await using pool = new Pool("data:text/javascript,export const sqr = (x) => x * x;", { processes: 1 });
 * let got = 0;
 * const callbacks: AsyncResultCallbacks<unknown> = {
 *   callback: (v) => (got = v as number),
 *   errorCallback: () => (got = -1),
 * };
 * await pool.applyAsync("sqr", [4], callbacks);
 * console.assert(got === 16);
 * ```
 */
export interface AsyncResultCallbacks<R> {
  /** Called with the value when the task succeeds. */
  callback?: ((value: R) => void) | undefined;
  /** Called with the error when the task fails. */
  errorCallback?: ((error: unknown) => void) | undefined;
}

let settleImpl: (
  result: AsyncResult<unknown>,
  ok: boolean,
  value: unknown,
) => void;

/**
 * The result of a task submitted with `applyAsync`, `mapAsync` or
 * `starmapAsync` (CPython's `AsyncResult`). It is `PromiseLike`, so it can be
 * awaited directly; `get(ms)` waits at most `ms` milliseconds. A failed
 * result that nobody awaits never raises an unhandled rejection.
 *
 * @typeParam R The task's result type.
 *
 * @example Usage
 * ```ts
 * import { Pool } from "@mproc/multiprocessing/pool";
 *
 * const tasks = "data:text/javascript,export const sqr = (x) => x * x;";
 * await using pool = new Pool(tasks, { processes: 1 });
 * const res = pool.applyAsync("sqr", [7]);
 * console.assert((await res.get(10_000)) === 49);
 * console.assert(res.ready() && res.successful());
 * ```
 */
export class AsyncResult<R> implements PromiseLike<R> {
  #state = PENDING;
  #value: unknown = undefined;
  #callbacks: AsyncResultCallbacks<R> | undefined;
  /** Settles like the task (created on the first get()). */
  #promise: Promise<R> | undefined;
  #resolve: ((v: R) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;
  /** Resolves when settled, never rejects (created on the first wait()). */
  #ready: Promise<void> | undefined;
  #readyResolve: (() => void) | undefined;

  static {
    settleImpl = (r, ok, v) => r.#settle(ok, v);
  }

  /**
   * Creates a pending result. Results are made by the pool; user code only
   * reads them.
   *
   * @param callbacks Called once when the result settles.
   */
  constructor(callbacks?: AsyncResultCallbacks<R>) {
    if (callbacks && (callbacks.callback || callbacks.errorCallback)) {
      this.#callbacks = callbacks;
    }
  }

  #settle(ok: boolean, value: unknown): void {
    if (this.#state !== PENDING) return;
    this.#state = ok ? OK : FAILED;
    this.#value = value;
    const cb = this.#callbacks;
    if (cb) {
      this.#callbacks = undefined;
      try {
        if (ok) cb.callback?.(value as R);
        else cb.errorCallback?.(value);
      } catch (err) {
        reportError(err);
      }
    }
    if (this.#promise) {
      if (ok) this.#resolve!(value as R);
      else this.#reject!(value);
      this.#resolve = this.#reject = undefined;
    }
    if (this.#readyResolve) {
      this.#readyResolve();
      this.#readyResolve = undefined;
    }
  }

  /**
   * Whether the task has finished (successfully or not).
   *
   * @returns True once the result is settled.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const tasks = "data:text/javascript,export const id = (x) => x;";
   * await using pool = new Pool(tasks, { processes: 1 });
   * const res = pool.applyAsync("id", [1]);
   * await res.wait();
   * console.assert(res.ready());
   * ```
   */
  ready(): boolean {
    return this.#state !== PENDING;
  }

  /**
   * Whether the task finished without throwing.
   *
   * @returns True when the task succeeded.
   * @throws {Error} When the result is not ready yet (CPython's `ValueError`).
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const tasks = "data:text/javascript,export const id = (x) => x;";
   * await using pool = new Pool(tasks, { processes: 1 });
   * const res = pool.applyAsync("id", [1]);
   * await res.wait();
   * console.assert(res.successful());
   * ```
   */
  successful(): boolean {
    if (this.#state === PENDING) {
      throw new Error(
        "Cannot tell whether the task succeeded as its result is not ready",
      );
    }
    return this.#state === OK;
  }

  /**
   * Waits until the result is ready, or until `timeout` milliseconds passed.
   * Never rejects.
   *
   * @param timeout Milliseconds to wait at most; `undefined` waits forever.
   * @returns A promise that resolves when ready or timed out.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const tasks = "data:text/javascript,export const id = (x) => x;";
   * await using pool = new Pool(tasks, { processes: 1 });
   * const res = pool.applyAsync("id", [1]);
   * await res.wait(10_000);
   * ```
   */
  wait(timeout?: number): Promise<void> {
    checkTimeout(timeout);
    if (this.#state !== PENDING) return Promise.resolve();
    if (!this.#ready) {
      this.#ready = new Promise<void>((
        resolve,
      ) => (this.#readyResolve = resolve));
    }
    if (timeout === undefined || timeout === Infinity) return this.#ready;
    return new Promise<void>((resolve) => {
      // Timers take at most MAX_DELAY ms (a longer delay fires at once):
      // longer waits re-arm until the deadline.
      const deadline = performance.now() + Math.max(0, timeout);
      let timer: ReturnType<typeof setTimeout>;
      const arm = (): void => {
        const left = deadline - performance.now();
        if (left <= 0) return resolve();
        timer = setTimeout(arm, Math.min(left, MAX_DELAY));
      };
      arm();
      this.#ready!.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * The task's value, once it is ready.
   *
   * @param timeout Milliseconds to wait at most; `undefined` waits forever.
   * @returns A promise of the value; it rejects with the task's error
   * (a `RemoteError` when the task threw, `WorkerLostError`, …).
   * @throws {TimeoutError} (as a rejection) When not ready after `timeout` ms.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const tasks = "data:text/javascript,export const sqr = (x) => x * x;";
   * await using pool = new Pool(tasks, { processes: 1 });
   * console.assert((await pool.applyAsync("sqr", [3]).get(10_000)) === 9);
   * ```
   */
  get(timeout?: number): Promise<R> {
    checkTimeout(timeout);
    if (this.#state === OK) return Promise.resolve(this.#value as R);
    if (this.#state === FAILED) return Promise.reject(this.#value);
    if (timeout === undefined) {
      return this.#promise ??= new Promise<R>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    }
    return this.wait(timeout).then(() => {
      if (this.#state === PENDING) {
        throw new TimeoutError(
          `Cannot get the result as it is not ready after ${timeout} ms`,
        );
      }
      return this.#result();
    });
  }

  #result(): R {
    if (this.#state === FAILED) throw this.#value;
    return this.#value as R;
  }

  /**
   * Makes the result awaitable: same as `get().then(...)`.
   *
   * @typeParam T1 Type of the fulfilled branch.
   * @typeParam T2 Type of the rejected branch.
   * @param onfulfilled Called with the value.
   * @param onrejected Called with the error.
   * @returns A promise of what the callbacks return.
   *
   * @example Usage
   * ```ts
   * import { Pool } from "@mproc/multiprocessing/pool";
   *
   * const tasks = "data:text/javascript,export const sqr = (x) => x * x;";
   * await using pool = new Pool(tasks, { processes: 1 });
   * console.assert((await pool.applyAsync("sqr", [4])) === 16);
   * ```
   */
  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this.get().then(onfulfilled, onrejected);
  }
}

function checkTimeout(timeout: number | undefined): void {
  if (
    timeout !== undefined &&
    (typeof timeout !== "number" || Number.isNaN(timeout))
  ) {
    throw new TypeError(
      `Cannot wait as the timeout is not a number: received ${String(timeout)}`,
    );
  }
}

/** Settles a pending result (internal; used by the pool). */
export function settle<R>(
  result: AsyncResult<R>,
  ok: boolean,
  value: unknown,
): void {
  settleImpl(result as AsyncResult<unknown>, ok, value);
}
