// Waiting on a shared Int32 word, written once and driven two ways.
//
// Every blocking algorithm in sharedmem (locks, semaphores, events,
// conditions, barriers, queues) is a generator that yields a `WaitOp` ("sleep
// while i32[index] === value, until deadline") whenever it must wait, and
// re-checks its condition after each wake-up (wake-ups may be spurious). The
// same generator is then run by:
//
// - `runSync` (Workers): `Atomics.wait`, blocking the thread;
// - `runAsync` (anywhere): `Atomics.waitAsync`, never blocking. Deno does not
//   count a pending `waitAsync` as work keeping the event loop alive, so a
//   timer holds the loop open for as long as the wait lasts. An abort wakes
//   every waiter on the word (`Atomics.notify` with no count), so no pending
//   wait is left behind to swallow a later single wake-up, then throws
//   `signal.reason` into the generator so that its `finally` blocks run.

/** One wait request: sleep while `i32[index] === value`, until `deadline`. */
export interface WaitOp {
  i32: Int32Array;
  index: number;
  value: number;
  /** Absolute `performance.now()` time; `Infinity` for no limit. */
  deadline: number;
  /**
   * An abort must not interrupt this wait (re-taking an internal lock that a
   * `finally` block needs); it is delivered at the next interruptible wait.
   */
  steady?: boolean;
}

/** A blocking algorithm: yields waits, returns its result. */
export type Waiter<T> = Generator<WaitOp, T, void>;

/** Milliseconds since an arbitrary origin (monotonic). */
export function now(): number {
  return performance.now();
}

/** Validates a timeout in milliseconds (`undefined`/`null`: none). */
export function checkTimeout(
  timeout: unknown,
  what = "timeout",
): number | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  if (typeof timeout !== "number" || Number.isNaN(timeout)) {
    throw new TypeError(
      `Cannot use the ${what} as it is not a number: current value is ${
        String(timeout)
      }`,
    );
  }
  if (timeout < 0) {
    throw new RangeError(
      `Cannot use the ${what} as it is negative: current value is ${timeout}`,
    );
  }
  return timeout;
}

/** Validates `{ block, timeout }` and turns them into an absolute deadline. */
export function deadlineOf(block: unknown, timeout: unknown): number {
  if (block !== undefined && typeof block !== "boolean") {
    throw new TypeError(
      `Cannot use the block option as it is not a boolean: current value is ${
        String(block)
      }`,
    );
  }
  const ms = checkTimeout(timeout);
  if (block === false) return -Infinity;
  return ms === undefined ? Infinity : now() + ms;
}

/** Validates an AbortSignal option. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new TypeError(
      "Cannot use the signal option as it is not an AbortSignal",
    );
  }
  return signal;
}

/** Runs a waiter to completion with `Atomics.wait` (Workers only). */
export function runSync<T>(gen: Waiter<T>): T {
  let step = gen.next();
  while (!step.done) {
    const w = step.value;
    const ms = w.deadline - now();
    if (ms > 0) {
      Atomics.wait(w.i32, w.index, w.value, ms === Infinity ? undefined : ms);
    }
    step = gen.next();
  }
  return step.value;
}

/** The longest delay a timer accepts (the keep-alive timer never fires). */
const MAX_DELAY = 2 ** 31 - 1;
function noop(): void {}

/** Runs a waiter to completion with `Atomics.waitAsync`. */
export async function runAsync<T>(
  gen: Waiter<T>,
  signal?: AbortSignal,
): Promise<T> {
  let thrown = false;
  let step: IteratorResult<WaitOp, T>;
  if (signal?.aborted) {
    gen.return(undefined as T);
    throw signal.reason;
  }
  step = gen.next();
  while (!step.done) {
    const w = step.value;
    if (signal?.aborted && !thrown && !w.steady) {
      thrown = true;
      step = gen.throw(signal.reason);
      continue;
    }
    const ms = w.deadline - now();
    if (ms > 0) {
      const res = Atomics.waitAsync(
        w.i32,
        w.index,
        w.value,
        ms === Infinity ? undefined : ms,
      );
      if (res.async) {
        const keepAlive = setInterval(noop, MAX_DELAY);
        const onAbort = (): void => {
          Atomics.notify(w.i32, w.index);
        };
        if (signal && !thrown && !w.steady) {
          signal.addEventListener("abort", onAbort, { once: true });
        }
        try {
          await res.value;
        } finally {
          clearInterval(keepAlive);
          signal?.removeEventListener("abort", onAbort);
        }
      }
    }
    step = gen.next();
  }
  return step.value;
}

/**
 * Spins this many times on a condition before going to sleep, on an event
 * loop (a few microseconds at most: the loop must not stall).
 */
export const SPIN = 200;

/**
 * Spins this many times before sleeping in a blocking `*Sync` call (tens of
 * microseconds): between two Workers a sleep and its wake-up cost more than
 * a short critical section, and the thread would block anyway.
 */
export const SPIN_BLOCKING = 5000;
