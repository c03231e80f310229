/**
 * Shared memory between the main thread and Workers of one Deno process,
 * with CPython's `multiprocessing` names: `Value`, `Array`, `RawValue`,
 * `RawArray` over `SharedArrayBuffer` (CPython typecodes), and `Lock`,
 * `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Condition`, `Barrier`,
 * `Queue` built on `Atomics`. Waits return Promises (`Atomics.waitAsync`)
 * and never block the event loop; inside Workers, `acquireSync`, `waitSync`,
 * `getSync`, `putSync` block for CPU-bound code. Every object passes as a
 * Pool task argument, or through `postMessage` with `toPostable`/`revive`,
 * and arrives as a handle on the same memory.
 *
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const counter = new mp.Value("i", 0);
 * const lock = new mp.Lock();
 * {
 *   using _held = await lock.scope();
 *   counter.value += 1;
 * }
 * const q = new mp.Queue<string>();
 * await q.put("hello");
 * console.assert((await q.get()) === "hello");
 * ```
 *
 * @module
 */

export * from "./array.ts";
export * from "./barrier.ts";
export * from "./condition.ts";
export * from "./event.ts";
export * from "./lock.ts";
export * from "./lock_scope.ts";
export * from "./options.ts";
export * from "./post.ts";
export * from "./queue.ts";
export * from "./rlock.ts";
export * from "./semaphore.ts";
export * from "./typecodes.ts";
export * from "./value.ts";
