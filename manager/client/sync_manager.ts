/**
 * `SyncManager` and `Manager()`: a manager with every CPython shared type
 * (queues, locks, semaphores, conditions, events, barriers, values, arrays,
 * dicts, lists, namespaces).
 *
 * @module
 */

import { BUILTIN_SPECS } from "../types/_sync_registry.ts";
import { BaseManager, type StartOptions } from "./base_manager.ts";
import type {
  AcquirerProxy,
  ArrayProxy,
  BarrierProxy,
  ConditionProxy,
  DictProxy,
  EventProxy,
  JoinableQueueProxy,
  ListProxy,
  NamespaceProxy,
  QueueProxy,
  SemaphoreProxy,
  ValueProxy,
} from "./sync_proxies.ts";
import type { BarrierOptions } from "../types/options.ts";

/**
 * A manager serving CPython's `SyncManager` types. Start one with
 * `Manager()` / `SyncManager.start()`, or `connect()` to a remote one.
 *
 * @example Share a queue and a lock
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const q = await m.Queue();
 * const lock = await m.Lock();
 * await q.put("hello");
 * console.assert(await lock.acquire());
 * console.assert(await q.get() === "hello");
 * await lock.release();
 * ```
 */
export class SyncManager extends BaseManager {
  /**
   * A FIFO queue holding at most `maxsize` items (0: unbounded).
   *
   * @param maxsize The capacity.
   * @returns Its proxy.
   */
  Queue(maxsize = 0): Promise<QueueProxy> {
    return make<QueueProxy>(this, "Queue", maxsize);
  }

  /**
   * A queue with `taskDone()` / `join()`.
   *
   * @param maxsize The capacity.
   * @returns Its proxy.
   */
  JoinableQueue(maxsize = 0): Promise<JoinableQueueProxy> {
    return make<JoinableQueueProxy>(this, "JoinableQueue", maxsize);
  }

  /**
   * An event flag.
   *
   * @returns Its proxy.
   */
  Event(): Promise<EventProxy> {
    return make<EventProxy>(this, "Event");
  }

  /**
   * A lock (any client may release it).
   *
   * @returns Its proxy.
   */
  Lock(): Promise<AcquirerProxy> {
    return make<AcquirerProxy>(this, "Lock");
  }

  /**
   * A reentrant lock, owned by the client connection that acquired it.
   *
   * @returns Its proxy.
   */
  RLock(): Promise<AcquirerProxy> {
    return make<AcquirerProxy>(this, "RLock");
  }

  /**
   * A semaphore with `value` units.
   *
   * @param value The initial units (default 1).
   * @returns Its proxy.
   */
  Semaphore(value = 1): Promise<SemaphoreProxy> {
    return make<SemaphoreProxy>(this, "Semaphore", value);
  }

  /**
   * A semaphore that cannot be released above its initial value.
   *
   * @param value The initial units (default 1).
   * @returns Its proxy.
   */
  BoundedSemaphore(value = 1): Promise<SemaphoreProxy> {
    return make<SemaphoreProxy>(this, "BoundedSemaphore", value);
  }

  /**
   * A condition variable over `lock` (a Lock or RLock proxy of this manager; default: a new RLock).
   *
   * @param lock The lock to wait with.
   * @returns Its proxy.
   */
  Condition(lock?: AcquirerProxy): Promise<ConditionProxy> {
    return lock === undefined
      ? make<ConditionProxy>(this, "Condition")
      : make<ConditionProxy>(this, "Condition", lock);
  }

  /**
   * A barrier for `parties` parties.
   *
   * @param parties How many parties must wait.
   * @param opts The default `timeout` (ms) of `wait()`.
   * @returns Its proxy.
   */
  Barrier(parties: number, opts?: BarrierOptions): Promise<BarrierProxy> {
    return opts === undefined
      ? make<BarrierProxy>(this, "Barrier", parties)
      : make<BarrierProxy>(this, "Barrier", parties, opts);
  }

  /**
   * A single shared value.
   *
   * @param typecode A CPython typecode (kept for reference).
   * @param value The initial value.
   * @returns Its proxy.
   */
  Value<T = unknown>(typecode: string, value: T): Promise<ValueProxy<T>> {
    return make<ValueProxy<T>>(this, "Value", typecode, value);
  }

  /**
   * A typed array (`b B h H i I l L q Q f d`).
   *
   * @param typecode The item type.
   * @param seq The initial items, or a size (zeros).
   * @returns Its proxy.
   */
  Array(
    typecode: string,
    seq: ArrayLike<number | bigint> | number,
  ): Promise<ArrayProxy> {
    let init: number | (number | bigint)[];
    try {
      init = typeof seq === "number" ? seq : globalThis.Array.from(seq);
    } catch (e) {
      return Promise.reject(e);
    }
    return make<ArrayProxy>(this, "Array", typecode, init);
  }

  /**
   * A dict.
   *
   * @param init Initial entries: an object or `[key, value]` pairs.
   * @returns Its proxy.
   */
  dict<V = unknown>(
    init?: Record<string, V> | [unknown, V][],
  ): Promise<DictProxy<V>> {
    return init === undefined
      ? make<DictProxy<V>>(this, "dict")
      : make<DictProxy<V>>(this, "dict", init);
  }

  /**
   * A list.
   *
   * @param init Initial items.
   * @returns Its proxy.
   */
  list<T = unknown>(init?: T[]): Promise<ListProxy<T>> {
    return init === undefined
      ? make<ListProxy<T>>(this, "list")
      : make<ListProxy<T>>(this, "list", init);
  }

  /**
   * A namespace of named attributes.
   *
   * @param init Initial attributes.
   * @returns Its proxy.
   */
  Namespace(init?: Record<string, unknown>): Promise<NamespaceProxy> {
    return init === undefined
      ? make<NamespaceProxy>(this, "Namespace")
      : make<NamespaceProxy>(this, "Namespace", init);
  }
}

function make<P>(
  m: SyncManager,
  typeid: string,
  ...args: unknown[]
): Promise<P> {
  return m.create(typeid, ...args) as unknown as Promise<P>;
}

for (const spec of BUILTIN_SPECS.values()) {
  SyncManager.register(spec.typeid, spec.callable, {
    ...(spec.exposed ? { exposed: spec.exposed } : {}),
  });
}

/**
 * Starts a `SyncManager` (its server runs in a Worker of this process).
 * Same as `SyncManager.start(options)`.
 *
 * @param options Address, authkey, module of custom types.
 * @returns The connected manager; `await using` shuts it down.
 *
 * @example Share a dict
 * ```ts
 * import { Manager } from "@mproc/multiprocessing/manager";
 *
 * await using m = await Manager();
 * const d = await m.dict({ a: 1 });
 * console.assert(await d.get("a") === 1);
 * ```
 */
export function Manager(options?: StartOptions): Promise<SyncManager> {
  return SyncManager.start(options);
}
