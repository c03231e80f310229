// The futex mutex every lock-like object is built on (Drepper, "Futexes Are
// Tricky", mutex #2): word 0 = free, 1 = held, 2 = held and someone may be
// sleeping. `unlock` only issues a wake-up when the word was 2. Before
// sleeping, a contender spins a little: critical sections here are short, so
// the holder usually leaves before a sleep would even start.

import { now, SPIN, type Waiter } from "./_futex.ts";

/** Takes the mutex if it is free. */
export function tryLock(i32: Int32Array, k: number): boolean {
  return Atomics.compareExchange(i32, k, 0, 1) === 0;
}

/**
 * Takes the mutex, waiting until `deadline`; returns false on timeout.
 * `steady` waits cannot be interrupted by an abort; `spin` is how many times
 * to retry before the first sleep.
 */
export function* lock(
  i32: Int32Array,
  k: number,
  deadline: number,
  steady = false,
  spin: number = SPIN,
): Waiter<boolean> {
  if (Atomics.compareExchange(i32, k, 0, 1) === 0) return true;
  if (deadline === -Infinity) return false;
  for (let s = 0; s < spin; s++) {
    if (
      Atomics.load(i32, k) === 0 && Atomics.compareExchange(i32, k, 0, 1) === 0
    ) return true;
  }
  while (Atomics.exchange(i32, k, 2) !== 0) {
    if (now() >= deadline) return false;
    yield { i32, index: k, value: 2, deadline, steady };
  }
  return true;
}

/**
 * Takes the mutex with no deadline and no abort: internal locks, and locks
 * that must be held again before a `finally` block can finish.
 */
export function* lockForever(i32: Int32Array, k: number): Waiter<void> {
  yield* lock(i32, k, Infinity, true);
}

/**
 * How long the main thread spins in {@link lockNow} before giving up: the
 * mutex is only held for a few instructions, so this much means its holder
 * is gone (a Worker terminated inside the critical section).
 */
const LOCK_NOW_LIMIT_MS = 5000;

/**
 * Takes a mutex that is only ever held for a few instructions, without
 * yielding: spins, then (in Workers) sleeps with `Atomics.wait`. Used by the
 * synchronous queries and `reset()`/`abort()` that must not return a Promise.
 * On the main thread, which may not sleep, it spins at most
 * LOCK_NOW_LIMIT_MS, then throws rather than freeze the event loop forever.
 */
export function lockNow(
  i32: Int32Array,
  k: number,
  canBlock: boolean,
  limitMs: number = LOCK_NOW_LIMIT_MS,
): void {
  if (Atomics.compareExchange(i32, k, 0, 1) === 0) return;
  const giveUp = now() + limitMs;
  for (;;) {
    for (let s = 0; s < SPIN; s++) {
      if (
        Atomics.load(i32, k) === 0 &&
        Atomics.compareExchange(i32, k, 0, 1) === 0
      ) return;
    }
    if (canBlock) {
      while (Atomics.exchange(i32, k, 2) !== 0) Atomics.wait(i32, k, 2);
      return;
    }
    if (now() >= giveUp) {
      throw new Error(
        `Cannot take the internal lock as it has been held for ${limitMs} ms: was a Worker terminated while holding it?`,
      );
    }
  }
}

/** Releases the mutex, waking one sleeper if there may be one. */
export function unlock(i32: Int32Array, k: number): void {
  if (Atomics.sub(i32, k, 1) !== 1) {
    Atomics.store(i32, k, 0);
    Atomics.notify(i32, k, 1);
  }
}
