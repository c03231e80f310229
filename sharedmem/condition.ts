/**
 * `Condition`: a condition variable over a shared `Lock` or `RLock`.
 *
 * @module
 */

import {
  decodeFromPostSync,
  encodeForPost,
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
import { LOCK_CORE, type LockCore } from "./_lock_core.ts";
import { assertCanBlock } from "./_thread.ts";
import { Lock } from "./lock.ts";
import type { LockScope } from "./lock_scope.ts";
import type { AcquireOptions, WaitOptions } from "./options.ts";
import { RLock } from "./rlock.ts";

const TAG = "mproc.sharedmem.Condition";
/** Int32 words: the ticket counter, the number of slots, then per slot (state, ticket). */
const TICKET = 0;
const SLOTS = 1;
const HEADER = 2;
const FREE = 0;
const WAITING = 1;
const NOTIFIED = 2;
const DEFAULT_MAX_WAITERS = 256;

let adopting: { sab: SharedArrayBuffer; lock: Lock | RLock } | undefined;

/**
 * Options of the {@link Condition} constructor.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const opts: mp.ConditionOptions = { maxWaiters: 4 };
 * const cond = new mp.Condition(new mp.Lock(), opts);
 * await cond.acquire();
 * console.assert((await cond.wait(1)) === false);
 * cond.release();
 * ```
 */
export interface ConditionOptions {
  /**
   * How many threads/tasks may wait at once (one 8-byte slot each).
   *
   * @default {256}
   */
  maxWaiters?: number;
}

function deadlineIn(timeout: unknown): number {
  const ms = checkTimeout(timeout);
  return ms === undefined ? Infinity : now() + ms;
}

function notOwned(what: string): Error {
  return new Error(
    `Cannot ${what} the condition as this thread does not hold its lock`,
  );
}

/** Waits for a notification; the caller holds the lock, and holds it again after. */
function* waitNotified(
  i32: Int32Array,
  core: LockCore,
  deadline: number,
): Waiter<boolean> {
  if (!core.isMine()) throw notOwned("wait on");
  const slots = i32[SLOTS]!;
  let at = -1;
  for (let s = 0; s < slots; s++) {
    if (Atomics.load(i32, HEADER + 2 * s) === FREE) {
      at = HEADER + 2 * s;
      break;
    }
  }
  if (at < 0) {
    throw new RangeError(
      `Cannot wait on the condition as it has ${slots} waiters already (see maxWaiters)`,
    );
  }
  Atomics.store(i32, at + 1, Atomics.add(i32, TICKET, 1));
  Atomics.store(i32, at, WAITING);
  const saved = core.releaseSave();
  let restored = false;
  try {
    while (Atomics.load(i32, at) === WAITING && now() < deadline) {
      yield { i32, index: at, value: WAITING, deadline };
    }
    yield* core.acquireRestore(saved);
    restored = true;
  } finally {
    if (!restored) yield* core.acquireRestore(saved);
  }
  const notified = Atomics.load(i32, at) === NOTIFIED;
  Atomics.store(i32, at, FREE);
  return notified;
}

/** Waits until `predicate()` is truthy (re-checked after each wake-up). */
function* waitUntil<T>(
  i32: Int32Array,
  core: LockCore,
  predicate: () => T,
  deadline: number,
): Waiter<T> {
  let result = predicate();
  while (!result) {
    if (now() >= deadline) break;
    yield* waitNotified(i32, core, deadline);
    result = predicate();
  }
  return result;
}

/**
 * A condition variable shared by the main thread and Workers (CPython's
 * `multiprocessing.Condition`). It owns a lock (a new `RLock` unless one is
 * given): take it with `acquire()` / `scope()`, then `wait()` releases it
 * while waiting for `notify()` / `notifyAll()` and takes it back before
 * resolving. Waiters are woken in arrival order. "Holding the lock" is per
 * thread (main thread or Worker), as for `RLock`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const cond = new mp.Condition();
 * let ready = false;
 * setTimeout(async () => {
 *   await using _held = await cond.scope();
 *   ready = true;
 *   cond.notify();
 * }, 5);
 * {
 *   await using _held = await cond.scope();
 *   console.assert(await cond.waitFor(() => ready, 1000));
 * }
 * ```
 */
export class Condition {
  #sab: SharedArrayBuffer;
  #i32: Int32Array;
  #lock: Lock | RLock;
  #core: LockCore;

  /**
   * Creates a condition over `lock` (a new `RLock` when left out).
   *
   * @param lock The lock the condition uses.
   * @param options `maxWaiters`.
   * @throws {TypeError} when `lock` is not a sharedmem `Lock` or `RLock`.
   * @throws {RangeError} when `maxWaiters` is not an integer in 1..65536.
   */
  constructor(lock?: Lock | RLock, options: ConditionOptions = {}) {
    if (adopting) {
      this.#sab = adopting.sab;
      this.#lock = adopting.lock;
    } else {
      const { maxWaiters = DEFAULT_MAX_WAITERS } = options;
      if (
        lock !== undefined && !(lock instanceof Lock) &&
        !(lock instanceof RLock)
      ) {
        throw new TypeError(
          "Cannot create the condition as its lock is not a sharedmem Lock or RLock",
        );
      }
      if (
        !Number.isInteger(maxWaiters) || maxWaiters < 1 || maxWaiters > 65536
      ) {
        throw new RangeError(
          `Cannot create the condition as maxWaiters must be an integer in 1..65536: current value is ${maxWaiters}`,
        );
      }
      this.#lock = lock ?? new RLock();
      this.#sab = new SharedArrayBuffer(4 * (HEADER + 2 * maxWaiters));
      new Int32Array(this.#sab)[SLOTS] = maxWaiters;
    }
    this.#i32 = new Int32Array(this.#sab);
    this.#core = this.#lock[LOCK_CORE]();
  }

  /**
   * Takes the condition's lock.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns Whether the lock was taken.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * console.assert(await cond.acquire());
   * cond.release();
   * ```
   */
  acquire(options?: AcquireOptions): Promise<boolean> {
    return this.#lock.acquire(options);
  }

  /**
   * The blocking twin of {@link Condition.acquire}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns Whether the lock was taken.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * cond.acquireSync();
   * ```
   */
  acquireSync(options?: Omit<AcquireOptions, "signal">): boolean {
    return this.#lock.acquireSync(options);
  }

  /**
   * Releases the condition's lock.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * await cond.acquire();
   * cond.release();
   * ```
   */
  release(): void {
    this.#lock.release();
  }

  /**
   * Takes the condition's lock and resolves a scope that releases it.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns The held scope.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * {
   *   using _held = await cond.scope();
   *   cond.notifyAll();
   * }
   * ```
   */
  scope(options?: AcquireOptions): Promise<LockScope> {
    return this.#lock.scope(options);
  }

  /**
   * The blocking twin of {@link Condition.scope}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns The held scope.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * using _held = cond.scopeSync();
   * ```
   */
  scopeSync(options?: Omit<AcquireOptions, "signal">): LockScope {
    return this.#lock.scopeSync(options);
  }

  /**
   * Releases the lock, waits for a notification (or the timeout), and takes
   * the lock back before resolving. The caller must hold the lock.
   *
   * @param timeout The longest wait in ms; none when left out.
   * @param options `signal` (the lock is taken back before the rejection).
   * @returns `true` when notified, `false` on timeout.
   * @throws {Error} (rejection) when this thread does not hold the lock.
   * @throws {RangeError} (rejection) when `maxWaiters` threads/tasks wait already.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * await cond.acquire();
   * console.assert(!(await cond.wait(10)));
   * cond.release();
   * ```
   */
  wait(timeout?: number, options?: WaitOptions): Promise<boolean> {
    try {
      const deadline = deadlineIn(timeout);
      const signal = checkSignal(options?.signal);
      if (!this.#core.isMine()) throw notOwned("wait on");
      return runAsync(waitNotified(this.#i32, this.#core, deadline), signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The blocking twin of {@link Condition.wait}, for Workers.
   *
   * @param timeout The longest wait in ms; none when left out.
   * @returns `true` when notified, `false` on timeout.
   * @throws {Error} on the main thread, or without the lock.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * cond.acquireSync();
   * cond.waitSync(1000);
   * cond.release();
   * ```
   */
  waitSync(timeout?: number): boolean {
    const deadline = deadlineIn(timeout);
    assertCanBlock("Condition.waitSync()");
    return runSync(waitNotified(this.#i32, this.#core, deadline));
  }

  /**
   * Waits until `predicate()` returns a truthy value, re-checking it after
   * each notification (CPython's `wait_for`). The caller must hold the lock.
   *
   * @typeParam T The predicate's result.
   * @param predicate Evaluated with the lock held.
   * @param timeout The longest wait in ms; none when left out.
   * @param options `signal`.
   * @returns The predicate's last result.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * await cond.acquire();
   * console.assert((await cond.waitFor(() => 42, 10)) === 42);
   * cond.release();
   * ```
   */
  waitFor<T>(
    predicate: () => T,
    timeout?: number,
    options?: WaitOptions,
  ): Promise<T> {
    try {
      if (typeof predicate !== "function") {
        throw new TypeError("Cannot wait as the predicate is not a function");
      }
      const deadline = deadlineIn(timeout);
      const signal = checkSignal(options?.signal);
      if (!this.#core.isMine()) throw notOwned("wait on");
      return runAsync(
        waitUntil(this.#i32, this.#core, predicate, deadline),
        signal,
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * The blocking twin of {@link Condition.waitFor}, for Workers.
   *
   * @typeParam T The predicate's result.
   * @param predicate Evaluated with the lock held.
   * @param timeout The longest wait in ms; none when left out.
   * @returns The predicate's last result.
   * @throws {Error} on the main thread, or without the lock.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * cond.acquireSync();
   * cond.waitForSync(() => done.value === 1, 1000);
   * cond.release();
   * ```
   */
  waitForSync<T>(predicate: () => T, timeout?: number): T {
    if (typeof predicate !== "function") {
      throw new TypeError("Cannot wait as the predicate is not a function");
    }
    const deadline = deadlineIn(timeout);
    assertCanBlock("Condition.waitForSync()");
    return runSync(waitUntil(this.#i32, this.#core, predicate, deadline));
  }

  /**
   * Wakes up to `n` waiters, longest-waiting first. The caller must hold the
   * lock.
   *
   * @param n How many waiters to wake.
   * @throws {Error} when this thread does not hold the lock.
   * @throws {RangeError} when `n` is not an integer ≥ 0.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * await cond.acquire();
   * cond.notify(2); // nobody waits: no-op
   * cond.release();
   * ```
   */
  notify(n = 1): void {
    if (n !== Infinity && (!Number.isInteger(n) || n < 0)) {
      throw new RangeError(
        `Cannot notify as n must be an integer >= 0: current value is ${n}`,
      );
    }
    if (!this.#core.isMine()) throw notOwned("notify");
    const i32 = this.#i32;
    const slots = i32[SLOTS]!;
    const waiting: number[] = [];
    for (let s = 0; s < slots; s++) {
      if (Atomics.load(i32, HEADER + 2 * s) === WAITING) {
        waiting.push(HEADER + 2 * s);
      }
    }
    if (waiting.length > n) {
      waiting.sort((a, b) => (i32[a + 1]! - i32[b + 1]!) | 0);
    }
    const count = Math.min(n, waiting.length);
    for (let k = 0; k < count; k++) {
      const at = waiting[k]!;
      Atomics.store(i32, at, NOTIFIED);
      Atomics.notify(i32, at);
    }
  }

  /**
   * Wakes every waiter. The caller must hold the lock.
   *
   * @throws {Error} when this thread does not hold the lock.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const cond = new mp.Condition();
   * await cond.acquire();
   * cond.notifyAll();
   * cond.release();
   * ```
   */
  notifyAll(): void {
    this.notify(Infinity);
  }

  /**
   * The handle that carries this condition (and its lock) across
   * `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return {
      tag: TAG,
      module: import.meta.url,
      data: { sab: this.#sab, lock: encodeForPost(this.#lock).value },
    };
  }
}

registerReviver(TAG, (data) => {
  const { sab, lock } = data as { sab: SharedArrayBuffer; lock: unknown };
  adopting = { sab, lock: decodeFromPostSync(lock) as Lock | RLock };
  try {
    return new Condition();
  } finally {
    adopting = undefined;
  }
});
