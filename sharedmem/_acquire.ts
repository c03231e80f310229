// The acquire/acquireSync/scope/scopeSync logic shared by Lock, RLock,
// Semaphore and BoundedSemaphore: each supplies a fast try, a waiting
// generator and its release.

import { TimeoutError } from "../errors.ts";
import {
  checkSignal,
  deadlineOf,
  runAsync,
  runSync,
  SPIN,
  SPIN_BLOCKING,
  type Waiter,
} from "./_futex.ts";
import { assertCanBlock } from "./_thread.ts";
import { LockScope } from "./lock_scope.ts";
import type { AcquireOptions } from "./options.ts";

/** How one kind of lock is taken. */
export interface Acquirer {
  /** Takes it if available right now (and records the owner). */
  tryAcquire(): boolean;
  /**
   * Waits until taken or past `deadline` (and records the owner), spinning
   * `spin` times before sleeping.
   */
  acquire(deadline: number, spin: number): Waiter<boolean>;
  /** Gives it back. */
  release(): void;
}

function checkOptions(options: unknown): AcquireOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object") {
    throw new TypeError("Cannot use the options as they are not an object");
  }
  return options as AcquireOptions;
}

/** `acquire(options)`: resolves true once taken, false on timeout. */
export function acquireAsync(
  a: Acquirer,
  options: AcquireOptions | undefined,
): Promise<boolean> {
  try {
    const { block, timeout, signal } = checkOptions(options);
    const deadline = deadlineOf(block, timeout);
    checkSignal(signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (a.tryAcquire()) return Promise.resolve(true);
    if (deadline === -Infinity) return Promise.resolve(false);
    return runAsync(a.acquire(deadline, SPIN), signal);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `acquireSync(options)`: blocks the Worker until taken or timed out. */
export function acquireBlocking(
  a: Acquirer,
  options: AcquireOptions | undefined,
  method: string,
): boolean {
  if (options === undefined) {
    // The hot path of CPU-bound workers: no options to check.
    assertCanBlock(method);
    return a.tryAcquire() || runSync(a.acquire(Infinity, SPIN_BLOCKING));
  }
  const { block, timeout } = checkOptions(options);
  const deadline = deadlineOf(block, timeout);
  assertCanBlock(method);
  if (a.tryAcquire()) return true;
  if (deadline === -Infinity) return false;
  return runSync(a.acquire(deadline, SPIN_BLOCKING));
}

function scopeFailed(timeout: number | undefined): TimeoutError {
  return new TimeoutError(
    timeout === undefined
      ? "Cannot enter the lock scope as the lock is not available"
      : `Cannot enter the lock scope as the lock was not available within ${timeout} ms`,
  );
}

/** `scope(options)`: acquires, then resolves a disposable that releases. */
export async function scopeAsync(
  a: Acquirer,
  options: AcquireOptions | undefined,
): Promise<LockScope> {
  if (!(await acquireAsync(a, options))) throw scopeFailed(options?.timeout);
  return new LockScope(() => a.release());
}

/** `scopeSync(options)`: the blocking twin of `scopeAsync`. */
export function scopeBlocking(
  a: Acquirer,
  options: AcquireOptions | undefined,
  method: string,
): LockScope {
  if (!acquireBlocking(a, options, method)) throw scopeFailed(options?.timeout);
  return new LockScope(() => a.release());
}
