/**
 * `Array` and `RawArray`: a fixed-length array of numbers in shared memory.
 * `Array` shadows the global inside `import * as mp` only; import it as
 * `import { Array as SharedArray }` to keep the global.
 *
 * @module
 */

import {
  registerReviver,
  TRANSFER,
  type TransferHandle,
} from "../_transfer.ts";
import { checkTypecode, toElement, viewOf } from "./_typecodes.ts";
import type { ElementOf, Typecode, TypedArrayOf } from "./typecodes.ts";
import { lockFrom, noLock, packLock, unpackLock } from "./_synchronized.ts";
import type { Lock } from "./lock.ts";
import type { RLock } from "./rlock.ts";

const RAW_TAG = "mproc.sharedmem.RawArray";
const TAG = "mproc.sharedmem.Array";
const MAX_LENGTH = 2 ** 31 - 1;
let adopting: { buffer: SharedArrayBuffer; length: number } | undefined;
let adoptingLock: Lock | RLock | undefined;

function initial(
  typecode: Typecode,
  sizeOrSeq: unknown,
): { length: number; values?: Iterable<unknown> } {
  if (typeof sizeOrSeq === "number") {
    if (
      !Number.isInteger(sizeOrSeq) || sizeOrSeq < 0 || sizeOrSeq > MAX_LENGTH
    ) {
      throw new RangeError(
        `Cannot create the shared array as its size is not an integer in 0..${MAX_LENGTH}: current value is ${sizeOrSeq}`,
      );
    }
    return { length: sizeOrSeq };
  }
  if (
    sizeOrSeq !== null && typeof sizeOrSeq === "object" &&
    Symbol.iterator in sizeOrSeq
  ) {
    const values = globalThis.Array.from(sizeOrSeq as Iterable<unknown>);
    values.forEach((v, i) => toElement(typecode, v, `item ${i}`));
    return { length: values.length, values };
  }
  throw new TypeError(
    "Cannot create the shared array as sizeOrSeq is neither a size nor an iterable of numbers",
  );
}

/**
 * A fixed-length array of a CPython typecode in a `SharedArrayBuffer`,
 * without a lock (CPython's `multiprocessing.RawArray`). Indexes may be
 * negative (from the end) as in Python.
 *
 * @typeParam C The typecode.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const a = new mp.RawArray("i", [1, 2, 3]);
 * a.set(-1, 30);
 * console.assert(a.toArray().join() === "1,2,30");
 * console.assert(a.length === 3);
 * ```
 */
export class RawArray<C extends Typecode = Typecode>
  implements Iterable<ElementOf<C>> {
  #typecode: C;
  #view: TypedArrayOf<C>;

  /**
   * Creates the array.
   *
   * @param typecode One of `b B h H i I l L q Q f d`.
   * @param sizeOrSeq A length (zero-filled) or the initial items.
   * @throws {TypeError} for an unknown typecode or an item the typecode
   *   cannot hold.
   * @throws {RangeError} for a negative or non-integer size.
   */
  constructor(typecode: C, sizeOrSeq: number | Iterable<number | bigint>) {
    this.#typecode = checkTypecode(typecode) as C;
    if (adopting) {
      this.#view = viewOf(this.#typecode, adopting.length, adopting.buffer);
    } else {
      const { length, values } = initial(this.#typecode, sizeOrSeq);
      this.#view = viewOf(this.#typecode, length);
      if (values) {
        let i = 0;
        for (const v of values) {
          this.#view[i++] = toElement(
            this.#typecode,
            v,
            `item ${i - 1}`,
          ) as never;
        }
      }
    }
  }

  #index(i: number): number {
    if (!Number.isInteger(i)) {
      throw new TypeError(
        `Cannot index the shared array with ${
          String(i)
        } as it is not an integer`,
      );
    }
    const n = this.#view.length;
    const at = i < 0 ? i + n : i;
    if (at < 0 || at >= n) {
      throw new RangeError(
        `Cannot index the shared array as ${i} is out of range for length ${n}`,
      );
    }
    return at;
  }

  /**
   * The typecode.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.RawArray("H", 2).typecode === "H");
   * ```
   */
  get typecode(): C {
    return this.#typecode;
  }

  /**
   * The number of items.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.RawArray("i", [1, 2, 3]).length === 3);
   * ```
   */
  get length(): number {
    return this.#view.length;
  }

  /**
   * The typed array over the shared memory (for `Atomics` and bulk access).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const a = new mp.RawArray("d", 4);
   * a.view.fill(0.5);
   * console.assert(a.get(3) === 0.5);
   * ```
   */
  get view(): TypedArrayOf<C> {
    return this.#view;
  }

  /**
   * Reads item `i` (negative: from the end).
   *
   * @param i The index.
   * @returns The item.
   * @throws {RangeError} when `i` is out of range.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const a = new mp.RawArray("Q", [5]);
   * console.assert(a.get(0) === 5n);
   * ```
   */
  get(i: number): ElementOf<C> {
    return this.#view[this.#index(i)] as ElementOf<C>;
  }

  /**
   * Writes item `i` (negative: from the end), wrapping around like ctypes.
   *
   * @param i The index.
   * @param v The new item.
   * @throws {RangeError} when `i` is out of range.
   * @throws {TypeError} for a value the typecode cannot hold.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const a = new mp.RawArray("B", 2);
   * a.set(1, 256 + 9);
   * console.assert(a.get(1) === 9);
   * ```
   */
  set(i: number, v: number | bigint): void {
    this.#view[this.#index(i)] = toElement(
      this.#typecode,
      v,
      `item ${i}`,
    ) as never;
  }

  /**
   * A plain-array copy of the items.
   *
   * @returns The items.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.RawArray("h", [1, 2]).toArray().length === 2);
   * ```
   */
  toArray(): ElementOf<C>[] {
    return globalThis.Array.from(
      this.#view as unknown as ArrayLike<ElementOf<C>>,
    );
  }

  /**
   * Iterates over the items.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert([...new mp.RawArray("i", [1, 2])].join() === "1,2");
   * ```
   */
  [Symbol.iterator](): Iterator<ElementOf<C>> {
    return (this.#view as unknown as Iterable<ElementOf<C>>)[Symbol.iterator]();
  }

  /**
   * The handle that carries this array across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return {
      tag: RAW_TAG,
      module: import.meta.url,
      data: {
        typecode: this.#typecode,
        buffer: this.#view.buffer,
        length: this.#view.length,
      },
    };
  }
}

/**
 * Options of the {@link Array} constructor.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const opts: mp.ArrayOptions = { lock: new mp.Lock() };
 * const a = new mp.Array("i", 3, opts);
 * console.assert(a.getLock() === opts.lock);
 * ```
 */
export interface ArrayOptions {
  /**
   * `true`: guard the array with a new `RLock` (CPython's default); a `Lock`
   * or `RLock`: use that one; `false`: no lock (`getLock()` throws; prefer
   * {@link RawArray}).
   *
   * @default {true}
   */
  lock?: boolean | Lock | RLock;
}

/**
 * A {@link RawArray} with a lock (CPython's synchronized
 * `multiprocessing.Array`). Hold `getLock()` around multi-item updates.
 *
 * @typeParam C The typecode.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const a = new mp.Array("i", 3);
 * {
 *   await using _held = await a.getLock().scope();
 *   for (let i = 0; i < a.length; i++) a.set(i, i * i);
 * }
 * console.assert(a.toArray().join() === "0,1,4");
 * ```
 */
export class Array<C extends Typecode = Typecode> extends RawArray<C> {
  #lock: Lock | RLock | undefined;

  /**
   * Creates the array and its lock.
   *
   * @param typecode One of `b B h H i I l L q Q f d`.
   * @param sizeOrSeq A length (zero-filled) or the initial items.
   * @param options `lock`.
   * @throws {TypeError} for an unknown typecode, an item the typecode cannot
   *   hold, or a `lock` that is not a boolean, `Lock` or `RLock`.
   * @throws {RangeError} for a negative or non-integer size.
   */
  constructor(
    typecode: C,
    sizeOrSeq: number | Iterable<number | bigint>,
    options: ArrayOptions = {},
  ) {
    super(typecode, sizeOrSeq);
    this.#lock = adopting ? adoptingLock : lockFrom(options.lock, "array");
  }

  /**
   * The lock guarding the array.
   *
   * @returns The `Lock` or `RLock`.
   * @throws {Error} when created with `lock: false`.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const a = new mp.Array("f", 2);
   * console.assert(!a.getLock().locked());
   * ```
   */
  getLock(): Lock | RLock {
    if (!this.#lock) throw noLock("array");
    return this.#lock;
  }

  /**
   * The handle that carries this array and its lock across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  override [TRANSFER](): TransferHandle {
    const raw = super[TRANSFER]();
    return {
      tag: TAG,
      module: import.meta.url,
      data: { raw: raw.data, lock: packLock(this.#lock) },
    };
  }
}

interface RawData {
  typecode: Typecode;
  buffer: SharedArrayBuffer;
  length: number;
}

registerReviver(RAW_TAG, (data) => {
  const { typecode, buffer, length } = data as RawData;
  adopting = { buffer, length };
  try {
    return new RawArray(typecode, 0);
  } finally {
    adopting = undefined;
  }
});

registerReviver(TAG, (data) => {
  const { raw, lock } = data as { raw: RawData; lock: unknown };
  adopting = { buffer: raw.buffer, length: raw.length };
  adoptingLock = unpackLock(lock);
  try {
    const Synchronized = Array; // (the lint rule reads `new Array(…)` as the global)
    return new Synchronized(raw.typecode, 0);
  } finally {
    adopting = undefined;
    adoptingLock = undefined;
  }
});
