/**
 * The proxy types `SyncManager` hands out. Every method is a remote call;
 * blocking ones take `{ block, timeout }` with the timeout in milliseconds.
 *
 * @module
 */

import type { BlockingOptions } from "../types/options.ts";
import type { ProxyBase } from "./proxy.ts";

/**
 * Proxy of a shared FIFO queue (CPython's `queue.Queue` in a manager).
 *
 * @example Put and get
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const q = await m.Queue();
 * await q.put(1);
 * console.assert(await q.get() === 1);
 * ```
 */
export interface QueueProxy extends ProxyBase {
  /** Adds `item`; rejects with `Full` when the queue stays full. */
  put(item: unknown, opts?: BlockingOptions): Promise<void>;
  /** Removes and returns the oldest item; rejects with `Empty` when none comes. */
  get(opts?: BlockingOptions): Promise<unknown>;
  /** `put(item, { block: false })`. */
  putNowait(item: unknown): Promise<void>;
  /** `get({ block: false })`. */
  getNowait(): Promise<unknown>;
  /** The number of items. */
  qsize(): Promise<number>;
  /** True when there is no item. */
  empty(): Promise<boolean>;
  /** True when the queue holds `maxsize` items. */
  full(): Promise<boolean>;
}

/**
 * Proxy of a joinable queue: a queue with task accounting.
 *
 * @example Wait until every item is processed
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const q = await m.JoinableQueue();
 * await q.put("job");
 * await q.get();
 * await q.taskDone();
 * await q.join();
 * ```
 */
export interface JoinableQueueProxy extends QueueProxy {
  /** Marks one item taken with `get()` as processed. */
  taskDone(): Promise<void>;
  /** Resolves once every item put has been marked done. */
  join(): Promise<void>;
}

/**
 * Proxy of a Lock, RLock, Semaphore or BoundedSemaphore.
 *
 * @example Acquire and release
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const lock = await m.Lock();
 * console.assert(await lock.acquire());
 * console.assert(!(await lock.acquire({ block: false })));
 * await lock.release();
 * ```
 */
export interface AcquirerProxy extends ProxyBase {
  /** Acquires; resolves `false` on timeout or when `block` is false and it is taken. */
  acquire(opts?: BlockingOptions): Promise<boolean>;
  /** Releases. */
  release(): Promise<void>;
}

/**
 * Proxy of a Lock (any client may release it).
 *
 * @example A lock
 * ```ts
 * import { type LockProxy, Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const lock: LockProxy = await m.Lock();
 * await lock.acquire();
 * await lock.release();
 * ```
 */
export type LockProxy = AcquirerProxy;
/**
 * Proxy of an RLock (owned by the client connection that acquired it).
 *
 * @example Reentrant
 * ```ts
 * import { type RLockProxy, Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const rlock: RLockProxy = await m.RLock();
 * await rlock.acquire();
 * await rlock.acquire();
 * await rlock.release();
 * await rlock.release();
 * ```
 */
export type RLockProxy = AcquirerProxy;

/**
 * Proxy of a Semaphore or BoundedSemaphore.
 *
 * @example Two units
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const sem = await m.Semaphore(2);
 * await sem.acquire();
 * console.assert(await sem.getValue() === 1);
 * await sem.release();
 * ```
 */
export interface SemaphoreProxy extends ProxyBase {
  /** Takes one unit; resolves `false` on timeout or non-blocking failure. */
  acquire(opts?: BlockingOptions): Promise<boolean>;
  /** Gives back `n` units (default 1). */
  release(n?: number): Promise<void>;
  /** The units available now. */
  getValue(): Promise<number>;
}

/**
 * Proxy of a Condition.
 *
 * @example Wait with a timeout
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const cond = await m.Condition();
 * await cond.acquire();
 * console.assert(!(await cond.wait(10)));
 * await cond.release();
 * ```
 */
export interface ConditionProxy extends AcquirerProxy {
  /** Releases the lock, waits for a notify (or `timeout` ms), reacquires; `false` on timeout. */
  wait(timeout?: number): Promise<boolean>;
  /** Wakes up to `n` waiters (default 1). */
  notify(n?: number): Promise<void>;
  /** Wakes every waiter. */
  notifyAll(): Promise<void>;
}

/**
 * Proxy of an Event.
 *
 * @example Set and wait
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const ev = await m.Event();
 * await ev.set();
 * console.assert(await ev.wait(10));
 * ```
 */
export interface EventProxy extends ProxyBase {
  /** Sets the flag, waking every waiter. */
  set(): Promise<void>;
  /** Clears the flag. */
  clear(): Promise<void>;
  /** True when the flag is set. */
  isSet(): Promise<boolean>;
  /** Waits for the flag (or `timeout` ms); resolves with the flag. */
  wait(timeout?: number): Promise<boolean>;
}

/**
 * Proxy of a Barrier.
 *
 * @example One party
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const b = await m.Barrier(1);
 * console.assert(await b.wait() === 0);
 * console.assert(await b.parties() === 1);
 * ```
 */
export interface BarrierProxy extends ProxyBase {
  /** Waits for all parties; resolves with this party's index; rejects with `BrokenBarrierError`. */
  wait(timeout?: number): Promise<number>;
  /** Breaks current waiters and makes the barrier usable again. */
  reset(): Promise<void>;
  /** Breaks the barrier. */
  abort(): Promise<void>;
  /** The number of parties. */
  parties(): Promise<number>;
  /** The number of parties waiting now. */
  nWaiting(): Promise<number>;
  /** True when broken. */
  broken(): Promise<boolean>;
}

/**
 * Proxy of a Value.
 *
 * @example Get and set
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const v = await m.Value("i", 1);
 * await v.set(2);
 * console.assert(await v.get() === 2);
 * ```
 */
export interface ValueProxy<T = unknown> extends ProxyBase {
  /** The value. */
  get(): Promise<T>;
  /** Replaces the value. */
  set(v: T): Promise<void>;
}

/**
 * Proxy of an Array (CPython typecodes; `q`/`Q`/`l`/`L` hold bigints).
 *
 * @example Typed items
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const a = await m.Array("i", [1, 2, 3]);
 * await a.set(0, 10);
 * console.assert((await a.toArray()).join() === "10,2,3");
 * ```
 */
export interface ArrayProxy extends ProxyBase {
  /** The item at `i` (negative counts from the end). */
  get(i: number): Promise<number | bigint>;
  /** Replaces the item at `i`. */
  set(i: number, v: number | bigint): Promise<void>;
  /** The number of items. */
  length(): Promise<number>;
  /** A copy of the items. */
  toArray(): Promise<(number | bigint)[]>;
}

/**
 * A dict key: a primitive.
 *
 * @example Keys
 * ```ts
 * import { type DictKey, Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const d = await m.dict();
 * const k: DictKey = 65;
 * await d.set(k, "A");
 * console.assert(await d.get(65) === "A");
 * ```
 */
export type DictKey = string | number | bigint | boolean | null;

/**
 * Proxy of a dict.
 *
 * @example A shared dict
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const d = await m.dict<number>({ a: 1 });
 * await d.set("b", 2);
 * console.assert(await d.size() === 2);
 * ```
 */
export interface DictProxy<V = unknown> extends ProxyBase {
  /** The value of `k`, or `defaultValue`. */
  get(k: DictKey, defaultValue?: V): Promise<V | undefined>;
  /** Sets `k`. */
  set(k: DictKey, v: V): Promise<void>;
  /** Deletes `k`; a `RemoteError` (`KeyError`) when missing. */
  delete(k: DictKey): Promise<void>;
  /** True when `k` is present. */
  has(k: DictKey): Promise<boolean>;
  /** The number of entries. */
  size(): Promise<number>;
  /** The keys. */
  keys(): Promise<DictKey[]>;
  /** The values. */
  values(): Promise<V[]>;
  /** The `[key, value]` pairs. */
  items(): Promise<[DictKey, V][]>;
  /** Adds the entries of an object or of `[key, value]` pairs. */
  update(obj: Record<string, V> | [DictKey, V][]): Promise<void>;
  /** Removes `k`, returning its value or `defaultValue`. */
  pop(k: DictKey, defaultValue?: V): Promise<V>;
  /** Removes and returns the last inserted pair. */
  popitem(): Promise<[DictKey, V]>;
  /** The value of `k`, set to `v` first when missing. */
  setdefault(k: DictKey, v: V): Promise<V>;
  /** Removes every entry. */
  clear(): Promise<void>;
  /** A plain-object copy (CPython's `copy()`). */
  toObject(): Promise<Record<string, V>>;
}

/**
 * Proxy of a list.
 *
 * @example A shared list
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const l = await m.list([3, 1, 2]);
 * await l.sort();
 * console.assert((await l.toArray()).join() === "1,2,3");
 * ```
 */
export interface ListProxy<T = unknown> extends ProxyBase {
  /** The number of items. */
  length(): Promise<number>;
  /** The item at `i` (negative counts from the end). */
  get(i: number): Promise<T>;
  /** Replaces the item at `i`. */
  set(i: number, v: T): Promise<void>;
  /** Appends `v`. */
  append(v: T): Promise<void>;
  /** Appends every item of `values`. */
  extend(values: T[]): Promise<void>;
  /** Inserts `v` before index `i`. */
  insert(i: number, v: T): Promise<void>;
  /** Removes and returns the item at `i` (default: last). */
  pop(i?: number): Promise<T>;
  /** Removes the first item equal to `v`. */
  remove(v: T): Promise<void>;
  /** The index of the first item equal to `v`. */
  index(v: T, start?: number, end?: number): Promise<number>;
  /** How many items equal `v`. */
  count(v: T): Promise<number>;
  /** Reverses in place. */
  reverse(): Promise<void>;
  /** Sorts in place (Python ordering). */
  sort(opts?: { reverse?: boolean }): Promise<void>;
  /** The items in `[start, end)`. */
  slice(start?: number, end?: number): Promise<T[]>;
  /** A copy of every item. */
  toArray(): Promise<T[]>;
}

/**
 * Proxy of a Namespace.
 *
 * @example Attributes
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const ns = await m.Namespace();
 * await ns.set("x", 1);
 * console.assert(await ns.get("x") === 1);
 * ```
 */
export interface NamespaceProxy extends ProxyBase {
  /** The attribute `name`; a `RemoteError` (`AttributeError`) when missing. */
  get(name: string): Promise<unknown>;
  /** Sets the attribute `name`. */
  set(name: string, v: unknown): Promise<void>;
  /** Deletes the attribute `name`. */
  delete(name: string): Promise<void>;
  /** A plain-object copy of the attributes. */
  toObject(): Promise<Record<string, unknown>>;
}
