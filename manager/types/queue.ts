// The referent behind `SyncManager.Queue()` / `JoinableQueue()` (CPython's
// `queue.Queue`): FIFO, optional maxsize, blocking put/get with timeouts in
// ms, and task accounting for `taskDone()` / `join()`. A waiting getter is
// handed the next item directly; a waiting putter's item is moved in as soon
// as there is room. An item whose reply cannot be delivered comes back to the
// head of the queue (see `Undoable`).

import { Empty, Full } from "../../errors.ts";
import { currentCaller } from "./_caller.ts";
import { Undoable } from "./undoable.ts";
import { Deque } from "./_deque.ts";
import { readBlocking } from "./_blocking.ts";
import { TIMED_OUT, WaitQueue } from "./_waiters.ts";
import { storable } from "./_errors.ts";
import type { BlockingOptions } from "./options.ts";

/**
 * The server-side queue behind `SyncManager.Queue()`: use it as the referent
 * of your own registered types, e.g. CPython's remote-manager pattern where
 * every client gets the same queue. (Called directly, `get()` returns an
 * `Undoable` wrapper; the server unwraps it.)
 *
 * @example One queue for every client
 * ```ts
 * import { BaseManager, SharedQueue } from "@mproc/multiprocessing/manager";
 *
 * const queue = new SharedQueue();
 * class QueueManager extends BaseManager {}
 * QueueManager.register("getQueue", () => queue);
 *
 * await using server = await QueueManager.serve({ address: "127.0.0.1:0", authkey: "k" });
 * await using m = await QueueManager.connect({ address: server.address, authkey: "k" });
 * const q = await m.create<SharedQueue>("getQueue");
 * await q.put("hello");
 * console.assert(await q.get() === "hello");
 * ```
 */
export class SharedQueue {
  #maxsize: number;
  #items = new Deque<unknown>();
  #getters = new WaitQueue<unknown>();
  #putters = new WaitQueue<void>();
  #joiners = new WaitQueue<void>();
  #unfinished = 0;
  #shut = false;

  /** Creates a queue holding at most `maxsize` items (`<= 0`: unbounded). */
  constructor(maxsize: number = 0) {
    if (typeof maxsize !== "number" || Number.isNaN(maxsize)) {
      throw new TypeError(
        `Cannot create the queue as maxsize must be a number: received ${
          String(maxsize)
        }`,
      );
    }
    this.#maxsize = maxsize;
  }

  #isFull(): boolean {
    return this.#maxsize > 0 && this.#items.length >= this.#maxsize;
  }

  #enqueue(item: unknown): void {
    this.#unfinished++;
    const g = this.#getters.take();
    if (g) g.resolve(item);
    else this.#items.push(item);
  }

  /** Puts an item back at the head (its reply could not be delivered). */
  #unget = (item: unknown): void => {
    const g = this.#getters.take();
    if (g) g.resolve(item);
    else this.#items.unshift(item);
  };

  #undoable(item: unknown): Undoable<unknown> {
    return new Undoable(item, () => this.#unget(item));
  }

  /** Adds an item, waiting for room when full; rejects with `Full`. */
  put(item: unknown, opts?: BlockingOptions): void | Promise<void> {
    const caller = currentCaller();
    const { block, timeout } = readBlocking(opts);
    storable(item);
    if (this.#shut) throw shutDown();
    if (!this.#isFull()) return this.#enqueue(item);
    if (!block || timeout === 0) throw new Full();
    return this.#putters.wait(caller, timeout, item).then((r) => {
      if (r === TIMED_OUT) throw new Full();
    });
  }

  /** Same as `put(item, { block: false })`. */
  putNowait(item: unknown): void | Promise<void> {
    return this.put(item, { block: false });
  }

  /** Removes and returns the oldest item, waiting when empty; rejects with `Empty`. */
  get(opts?: BlockingOptions): Undoable<unknown> | Promise<Undoable<unknown>> {
    const caller = currentCaller();
    const { block, timeout } = readBlocking(opts);
    if (this.#items.length > 0) {
      const item = this.#items.shift();
      this.#admitPutter();
      return this.#undoable(item);
    }
    if (this.#shut) throw shutDown();
    if (!block || timeout === 0) throw new Empty();
    return this.#getters.wait(caller, timeout).then((r) => {
      if (r === TIMED_OUT) throw new Empty();
      return this.#undoable(r);
    });
  }

  /** Same as `get({ block: false })`. */
  getNowait(): Undoable<unknown> | Promise<Undoable<unknown>> {
    return this.get({ block: false });
  }

  #admitPutter(): void {
    while (!this.#isFull()) {
      const p = this.#putters.take();
      if (!p) return;
      this.#enqueue(p.data);
      p.resolve(undefined);
    }
  }

  /** Number of items in the queue. */
  qsize(): number {
    return this.#items.length;
  }

  /** True when the queue holds no item. */
  empty(): boolean {
    return this.#items.length === 0;
  }

  /** True when the queue holds `maxsize` items. */
  full(): boolean {
    return this.#isFull();
  }

  /** Marks one formerly enqueued item as processed. */
  taskDone(): void {
    if (this.#unfinished <= 0) {
      throw new RangeError(
        "Cannot mark a task done as taskDone() was called more times than items were put",
      );
    }
    this.#unfinished--;
    if (this.#unfinished === 0) this.#joiners.wakeAll(undefined);
  }

  /**
   * CPython 3.13's `shutdown(immediate)`: later puts fail, and gets fail
   * once the queue is empty; waiting getters and putters fail now (with an
   * error named `ShutDown`). `immediate` also drops the queued items,
   * counting them done.
   */
  shutdown(immediate: boolean = false): void {
    this.#shut = true;
    if (immediate) {
      while (this.#items.length > 0) {
        this.#items.shift();
        if (this.#unfinished > 0) this.#unfinished--;
      }
      if (this.#unfinished === 0) this.#joiners.wakeAll(undefined);
    }
    this.#getters.failAll(shutDown());
    this.#putters.failAll(shutDown());
  }

  /** Resolves once every item put has been marked done with `taskDone()`. */
  join(): void | Promise<void> {
    if (this.#unfinished === 0) return;
    return this.#joiners.wait(currentCaller()).then(() => {});
  }
}

/** The error of a shut-down queue (CPython's `queue.ShutDown`). */
function shutDown(): Error {
  const e = new Error("Cannot use the queue as it was shut down");
  e.name = "ShutDown";
  return e;
}
