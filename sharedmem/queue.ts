/**
 * `Queue`: a FIFO of msgpack-encoded items in a shared ring buffer.
 *
 * @module
 */

import { Empty, Full } from "../errors.ts";
import {
  registerReviver,
  TRANSFER,
  type TransferHandle,
} from "../_transfer.ts";
import { decode, encode } from "../_msgpack.ts";
import {
  checkSignal,
  deadlineOf,
  now,
  runAsync,
  runSync,
  SPIN,
  SPIN_BLOCKING,
  type Waiter,
} from "./_futex.ts";
import { lockForever, unlock } from "./_mutex.ts";
import { assertCanBlock } from "./_thread.ts";
import type { AcquireOptions } from "./options.ts";

const TAG = "mproc.sharedmem.Queue";
/** Int32 header words. */
const MUTEX = 0;
const HEAD = 1;
const TAIL = 2;
const USED = 3;
const COUNT = 4;
const MAXSIZE = 5;
const NOT_EMPTY = 6;
const NOT_FULL = 7;
const GET_WAITERS = 8;
const PUT_WAITERS = 9;
const CAPACITY = 10;
const HEADER_BYTES = 64;
/** Each item is a 4-byte little-endian length, then its msgpack bytes. */
const PREFIX = 4;
const DEFAULT_CAPACITY = 1 << 20;
const MAX_CAPACITY = 2 ** 31 - 1 - HEADER_BYTES;

let adopting: SharedArrayBuffer | undefined;

/**
 * Options of the {@link Queue} constructor.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const opts: mp.QueueOptions = { capacity: 4096 };
 * const q = new mp.Queue<string>(0, opts);
 * await q.put("x");
 * console.assert((await q.get()) === "x");
 * ```
 */
export interface QueueOptions {
  /**
   * Bytes of shared memory for the items (each takes 4 bytes plus its
   * msgpack encoding). An item that cannot fit even in an empty queue is
   * refused with a `RangeError`; a queue without room makes `put` wait.
   *
   * @default {1048576}
   */
  capacity?: number;
}

/**
 * Options of {@link Queue.put} and {@link Queue.putSync}.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const q = new mp.Queue<number>(1);
 * const opts: mp.QueuePutOptions = { timeout: 10 };
 * await q.put(1, opts);
 * await q.put(2, opts).catch((e) => console.assert(e.name === "Full"));
 * ```
 */
export type QueuePutOptions = AcquireOptions;

/**
 * Options of {@link Queue.get} and {@link Queue.getSync}.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const q = new mp.Queue<number>();
 * const opts: mp.QueueGetOptions = { block: false };
 * await q.get(opts).catch((e) => console.assert(e.name === "Empty"));
 * ```
 */
export type QueueGetOptions = AcquireOptions;

function copyIn(ring: Uint8Array, at: number, bytes: Uint8Array): void {
  const first = Math.min(bytes.length, ring.length - at);
  ring.set(first === bytes.length ? bytes : bytes.subarray(0, first), at);
  if (first < bytes.length) ring.set(bytes.subarray(first), 0);
}

/**
 * Items are copied out of the ring into this thread's scratch buffer and
 * decoded at once (the codec copies binary data, so nothing refers to it
 * afterwards). Allocating a small typed array costs more than the whole
 * decode in V8, so the views of the scratch buffer are cached by length.
 */
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(SCRATCH_BYTES);
const views: Uint8Array[] = [];
/** Below this many bytes a loop beats creating views of shared memory. */
const SMALL = 64;

function copyOut(ring: Uint8Array, at: number, length: number): Uint8Array {
  const out = length <= SCRATCH_BYTES
    ? (views[length] ??= scratch.subarray(0, length))
    : new Uint8Array(length);
  const size = ring.length;
  if (length <= SMALL) {
    for (let i = 0; i < length; i++) {
      const j = at + i;
      out[i] = ring[j < size ? j : j - size]!;
    }
    return out;
  }
  const end = at + length;
  if (end <= size) {
    out.set(ring.subarray(at, end));
  } else {
    out.set(ring.subarray(at), 0);
    out.set(ring.subarray(0, end - size), size - at);
  }
  return out;
}

/**
 * Whether an item of `need` bytes fits. HEAD, TAIL and USED are only written
 * with the queue lock held, and read with plain accesses under it (the lock's
 * atomics order them); COUNT and the waiter counts are also read without the
 * lock, so they are always accessed with `Atomics`.
 */
function hasRoom(q: Int32Array, need: number): boolean {
  const max = q[MAXSIZE]!;
  return (max <= 0 || Atomics.load(q, COUNT) < max) &&
    Atomics.load(q, USED) + need <= q[CAPACITY]!;
}

/** Spins before sleeping on an event loop (SPIN_BLOCKING in Workers). */
const SPIN_ASYNC = SPIN;

/**
 * Releases the queue lock, sleeps until `word` changes (after a spin on
 * `ready`), then re-takes the lock.
 */
function* sleepOn(
  q: Int32Array,
  word: number,
  waiters: number,
  deadline: number,
  spin: number,
  ready: () => boolean,
): Waiter<void> {
  const seen = Atomics.load(q, word);
  unlock(q, MUTEX);
  try {
    for (let s = 0; s < spin && !ready(); s++);
    if (!ready()) {
      // Count ourselves, then re-check: the other side changes the state,
      // then reads the count (all sequentially consistent), so either it sees
      // us and bumps `word`, or we see its change.
      Atomics.add(q, waiters, 1);
      try {
        if (!ready() && now() < deadline) {
          yield { i32: q, index: word, value: seen, deadline };
        }
      } finally {
        Atomics.sub(q, waiters, 1);
      }
    }
  } finally {
    yield* lockForever(q, MUTEX);
  }
}

function wake(q: Int32Array, word: number, waiters: number): void {
  if (Atomics.load(q, waiters) > 0) {
    Atomics.add(q, word, 1);
    Atomics.notify(q, word, 1);
  }
}

/** Takes the queue lock by spinning only (it is held for a copy at most). */
function spinLock(q: Int32Array): boolean {
  if (Atomics.compareExchange(q, MUTEX, 0, 1) === 0) return true;
  for (let s = 0; s < SPIN; s++) {
    if (
      Atomics.load(q, MUTEX) === 0 &&
      Atomics.compareExchange(q, MUTEX, 0, 1) === 0
    ) return true;
  }
  return false;
}

/** The caller holds the lock and there is room: appends the item. */
function write(q: Int32Array, ring: Uint8Array, bytes: Uint8Array): void {
  const tail = q[TAIL]!;
  const len = bytes.length;
  const size = ring.length;
  ring[tail] = len & 0xff;
  ring[(tail + 1) % size] = (len >>> 8) & 0xff;
  ring[(tail + 2) % size] = (len >>> 16) & 0xff;
  ring[(tail + 3) % size] = len >>> 24;
  copyIn(ring, (tail + PREFIX) % size, bytes);
  q[TAIL] = (tail + PREFIX + len) % size;
  q[USED] = q[USED]! + PREFIX + len;
  Atomics.store(q, COUNT, q[COUNT]! + 1);
  wake(q, NOT_EMPTY, GET_WAITERS);
}

/**
 * The caller holds the lock and there is an item: removes it and returns its
 * bytes, valid until the next `read` in this thread (decode them at once).
 */
function read(q: Int32Array, ring: Uint8Array): Uint8Array {
  const head = q[HEAD]!;
  const size = ring.length;
  const len = (ring[head]! | (ring[(head + 1) % size]! << 8) |
    (ring[(head + 2) % size]! << 16) |
    (ring[(head + 3) % size]! << 24)) >>> 0;
  const bytes = copyOut(ring, (head + PREFIX) % size, len);
  q[HEAD] = (head + PREFIX + len) % size;
  q[USED] = q[USED]! - PREFIX - len;
  Atomics.store(q, COUNT, q[COUNT]! - 1);
  wake(q, NOT_FULL, PUT_WAITERS);
  return bytes;
}

/** One attempt without waiting: "done", or why not. */
type Attempt = "done" | "unavailable" | "busy";

function tryPut(q: Int32Array, ring: Uint8Array, bytes: Uint8Array): Attempt {
  if (!spinLock(q)) return "busy";
  try {
    if (!hasRoom(q, PREFIX + bytes.length)) return "unavailable";
    write(q, ring, bytes);
    return "done";
  } finally {
    unlock(q, MUTEX);
  }
}

function tryGet(
  q: Int32Array,
  ring: Uint8Array,
): Uint8Array | "unavailable" | "busy" {
  if (Atomics.load(q, COUNT) === 0) return "unavailable";
  if (!spinLock(q)) return "busy";
  try {
    return Atomics.load(q, COUNT) === 0 ? "unavailable" : read(q, ring);
  } finally {
    unlock(q, MUTEX);
  }
}

function* putItem(
  q: Int32Array,
  ring: Uint8Array,
  item: Uint8Array,
  deadline: number,
  spin: number,
): Waiter<void> {
  const need = PREFIX + item.length;
  const bytes = item.slice(); // the encoder reuses its buffer while we wait
  yield* lockForever(q, MUTEX);
  try {
    while (!hasRoom(q, need)) {
      if (now() >= deadline) throw new Full();
      yield* sleepOn(
        q,
        NOT_FULL,
        PUT_WAITERS,
        deadline,
        spin,
        () => hasRoom(q, need),
      );
    }
    write(q, ring, bytes);
  } finally {
    unlock(q, MUTEX);
  }
}

function* getItem(
  q: Int32Array,
  ring: Uint8Array,
  deadline: number,
  spin: number,
): Waiter<unknown> {
  let bytes: Uint8Array;
  yield* lockForever(q, MUTEX);
  try {
    while (Atomics.load(q, COUNT) === 0) {
      if (now() >= deadline) throw new Empty();
      yield* sleepOn(
        q,
        NOT_EMPTY,
        GET_WAITERS,
        deadline,
        spin,
        () => Atomics.load(q, COUNT) > 0,
      );
    }
    bytes = read(q, ring);
  } finally {
    unlock(q, MUTEX);
  }
  return decode(bytes);
}

/**
 * A FIFO queue shared by the main thread and Workers (CPython's
 * `multiprocessing.Queue`): items are encoded with msgpack into a ring buffer
 * in a `SharedArrayBuffer`, so `put` and `get` are a copy, not a message.
 * `maxsize` ≤ 0 means no item limit; the byte `capacity` always applies.
 * `get`/`put` reject with the shared `Empty`/`Full` errors.
 *
 * @typeParam T The items' type.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 * import { Empty } from "@mproc/multiprocessing";
 *
 * const q = new mp.Queue<{ n: number }>(2);
 * await q.put({ n: 1 });
 * await q.put({ n: 2 });
 * console.assert(q.full());
 * console.assert((await q.get()).n === 1);
 * console.assert((await q.getNowait()).n === 2);
 * await q.getNowait().catch((e) => console.assert(e instanceof Empty));
 * ```
 */
export class Queue<T = unknown> implements AsyncDisposable {
  #sab: SharedArrayBuffer;
  #q: Int32Array;
  #ring: Uint8Array;
  #closed = false;

  /**
   * Creates an empty queue.
   *
   * @param maxsize The most items it holds; ≤ 0 for no limit.
   * @param options `capacity` in bytes.
   * @throws {TypeError} when `maxsize` or `capacity` is not an integer.
   * @throws {RangeError} when `capacity` is below 16 or above 2^31 - 65.
   */
  constructor(maxsize = 0, options: QueueOptions = {}) {
    if (adopting) {
      this.#sab = adopting;
      this.#q = new Int32Array(this.#sab, 0, HEADER_BYTES / 4);
    } else {
      const { capacity = DEFAULT_CAPACITY } = options;
      if (typeof maxsize !== "number" || !Number.isInteger(maxsize)) {
        throw new TypeError(
          `Cannot create the queue as maxsize is not an integer: current value is ${
            String(maxsize)
          }`,
        );
      }
      if (typeof capacity !== "number" || !Number.isInteger(capacity)) {
        throw new TypeError(
          `Cannot create the queue as capacity is not an integer: current value is ${
            String(capacity)
          }`,
        );
      }
      if (capacity < 16 || capacity > MAX_CAPACITY) {
        throw new RangeError(
          `Cannot create the queue as capacity must be in 16..${MAX_CAPACITY}: current value is ${capacity}`,
        );
      }
      this.#sab = new SharedArrayBuffer(HEADER_BYTES + capacity);
      this.#q = new Int32Array(this.#sab, 0, HEADER_BYTES / 4);
      this.#q[MAXSIZE] = Math.max(0, Math.min(maxsize, 2 ** 31 - 1));
      this.#q[CAPACITY] = capacity;
    }
    this.#ring = new Uint8Array(this.#sab, HEADER_BYTES, this.#q[CAPACITY]!);
  }

  #encode(item: T, action: string): Uint8Array {
    if (this.#closed) {
      throw new Error(`Cannot ${action} as this queue handle is closed`);
    }
    const bytes = encode(item);
    if (PREFIX + bytes.length > this.#ring.length) {
      throw new RangeError(
        `Cannot put the item as its encoding of ${bytes.length} bytes does not fit in the queue capacity of ${this.#ring.length} bytes (4 more bytes per item)`,
      );
    }
    return bytes;
  }

  #checkOpen(action: string): void {
    if (this.#closed) {
      throw new Error(`Cannot ${action} as this queue handle is closed`);
    }
  }

  /**
   * Appends `item`, waiting for room when the queue is full.
   *
   * @param item A msgpack-serializable value.
   * @param options `block`, `timeout` (ms), `signal`.
   * @throws {TypeError} (rejection) naming the path of a value msgpack cannot carry
   *   (nothing is written).
   * @throws {RangeError} (rejection) when the encoded item exceeds the capacity.
   * @throws {Full} (rejection) when there is no room in time.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue<string>(1);
   * await q.put("a");
   * await q.put("b", { timeout: 10 }).catch((e) => console.assert(e.name === "Full"));
   * ```
   */
  put(item: T, options: QueuePutOptions = {}): Promise<void> {
    try {
      const { block, timeout, signal } = options;
      const deadline = deadlineOf(block, timeout);
      checkSignal(signal);
      const bytes = this.#encode(item, "put an item");
      if (signal?.aborted) return Promise.reject(signal.reason);
      const first = tryPut(this.#q, this.#ring, bytes);
      if (first === "done") return Promise.resolve();
      if (first === "unavailable" && deadline === -Infinity) {
        return Promise.reject(new Full());
      }
      return runAsync(
        putItem(this.#q, this.#ring, bytes, deadline, SPIN_ASYNC),
        signal,
      );
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `put(item, { block: false })`.
   *
   * @param item A msgpack-serializable value.
   * @throws {Full} (rejection) when there is no room.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue<number>();
   * await q.putNowait(1);
   * console.assert(q.qsize() === 1);
   * ```
   */
  putNowait(item: T): Promise<void> {
    return this.put(item, { block: false });
  }

  /**
   * The blocking twin of {@link Queue.put}, for Workers.
   *
   * @param item A msgpack-serializable value.
   * @param options `block`, `timeout` (ms).
   * @throws {Full} when there is no room in time.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * q.putSync({ result: 42 });
   * ```
   */
  putSync(item: T, options: Omit<QueuePutOptions, "signal"> = {}): void {
    const { block, timeout } = options;
    const deadline = deadlineOf(block, timeout);
    const bytes = this.#encode(item, "put an item");
    assertCanBlock("Queue.putSync()");
    let first = tryPut(this.#q, this.#ring, bytes);
    for (
      let s = 0;
      first === "unavailable" && deadline !== -Infinity && s < SPIN_BLOCKING;
      s++
    ) {
      if (hasRoom(this.#q, PREFIX + bytes.length)) {
        first = tryPut(this.#q, this.#ring, bytes);
      }
    }
    if (first === "done") return;
    if (first === "unavailable" && deadline === -Infinity) throw new Full();
    runSync(putItem(this.#q, this.#ring, bytes, deadline, SPIN_BLOCKING));
  }

  /**
   * Removes and resolves the oldest item, waiting while the queue is empty.
   *
   * @param options `block`, `timeout` (ms), `signal`.
   * @returns The item.
   * @throws {Empty} (rejection) when no item came in time.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue<number>();
   * await q.get({ timeout: 10 }).catch((e) => console.assert(e.name === "Empty"));
   * ```
   */
  get(options: QueueGetOptions = {}): Promise<T> {
    try {
      const { block, timeout, signal } = options;
      const deadline = deadlineOf(block, timeout);
      checkSignal(signal);
      this.#checkOpen("get an item");
      if (signal?.aborted) return Promise.reject(signal.reason);
      const first = tryGet(this.#q, this.#ring);
      if (first instanceof Uint8Array) {
        try {
          return Promise.resolve(decode(first) as T);
        } catch (e) {
          return Promise.reject(e);
        }
      }
      if (first === "unavailable" && deadline === -Infinity) {
        return Promise.reject(new Empty());
      }
      return runAsync(
        getItem(this.#q, this.#ring, deadline, SPIN_ASYNC),
        signal,
      ) as Promise<T>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `get({ block: false })`.
   *
   * @returns The item.
   * @throws {Empty} (rejection) when the queue is empty.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue<number>();
   * await q.put(7);
   * console.assert((await q.getNowait()) === 7);
   * ```
   */
  getNowait(): Promise<T> {
    return this.get({ block: false });
  }

  /**
   * The blocking twin of {@link Queue.get}, for Workers.
   *
   * @param options `block`, `timeout` (ms).
   * @returns The item.
   * @throws {Empty} when no item came in time.
   * @throws {Error} on the main thread.
   *
   * @example Usage (inside a Worker)
   * ```ts ignore
   * const job = q.getSync({ timeout: 1000 });
   * ```
   */
  getSync(options: Omit<QueueGetOptions, "signal"> = {}): T {
    const { block, timeout } = options;
    const deadline = deadlineOf(block, timeout);
    this.#checkOpen("get an item");
    assertCanBlock("Queue.getSync()");
    const q = this.#q;
    let first = tryGet(q, this.#ring);
    // Spin without the lock while the queue is empty: a producer usually
    // comes within microseconds, far sooner than a sleep and a wake-up.
    for (
      let s = 0;
      first === "unavailable" && deadline !== -Infinity && s < SPIN_BLOCKING;
      s++
    ) {
      if (Atomics.load(q, COUNT) > 0) first = tryGet(q, this.#ring);
    }
    if (first instanceof Uint8Array) return decode(first) as T;
    if (first === "unavailable" && deadline === -Infinity) throw new Empty();
    return runSync(getItem(this.#q, this.#ring, deadline, SPIN_BLOCKING)) as T;
  }

  /**
   * The number of items in the queue.
   *
   * @returns The item count.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.Queue().qsize() === 0);
   * ```
   */
  qsize(): number {
    return Atomics.load(this.#q, COUNT);
  }

  /**
   * Whether the queue holds no item.
   *
   * @returns True when empty.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.Queue().empty());
   * ```
   */
  empty(): boolean {
    return this.qsize() === 0;
  }

  /**
   * Whether the queue holds `maxsize` items (always false without a
   * maxsize; the byte capacity is not counted, as in CPython).
   *
   * @returns True when full.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(!new mp.Queue(1).full());
   * ```
   */
  full(): boolean {
    const max = Atomics.load(this.#q, MAXSIZE);
    return max > 0 && this.qsize() >= max;
  }

  /**
   * True once {@link Queue.close} was called on this handle.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue();
   * console.assert(!q.closed);
   * q.close();
   * console.assert(q.closed);
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Closes this handle (CPython's `close()`): it refuses further `put` and
   * `get`; other handles on the same memory are not affected, and the items
   * stay. Idempotent.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const q = new mp.Queue();
   * q.close();
   * q.close();
   * console.assert(q.closed);
   * ```
   */
  close(): void {
    this.#closed = true;
  }

  /**
   * Closes this handle (for `await using`).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * {
   *   await using q = new mp.Queue<number>();
   *   await q.put(1);
   * } // this handle is closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /**
   * The handle that carries this queue across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return { tag: TAG, module: import.meta.url, data: this.#sab };
  }
}

registerReviver(TAG, (data) => {
  adopting = data as SharedArrayBuffer;
  try {
    return new Queue();
  } finally {
    adopting = undefined;
  }
});
