/**
 * `Value` and `RawValue`: one number in shared memory.
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

const RAW_TAG = "mproc.sharedmem.RawValue";
const TAG = "mproc.sharedmem.Value";
let adopting: SharedArrayBuffer | undefined;
let adoptingLock: Lock | RLock | undefined;

/**
 * One number of a CPython typecode in a `SharedArrayBuffer`, without a lock
 * (CPython's `multiprocessing.RawValue`). Integers wrap around like ctypes;
 * `l`/`L`/`q`/`Q` read back as bigint. Passed as a Pool task argument or
 * posted (see {@link toPostable}), it arrives as a view of the same memory.
 *
 * @typeParam C The typecode.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const v = new mp.RawValue("b", 127);
 * v.value += 1;
 * console.assert(v.value === -128);
 * const big = new mp.RawValue("q", 1);
 * console.assert(big.value === 1n);
 * ```
 */
export class RawValue<C extends Typecode = Typecode> {
  #typecode: C;
  #view: TypedArrayOf<C>;

  /**
   * Creates the value.
   *
   * @param typecode One of `b B h H i I l L q Q f d`.
   * @param value The initial value (a number, or a bigint).
   * @throws {TypeError} for an unknown typecode, or a value the typecode
   *   cannot hold (a non-integer for an integer typecode, a non-number).
   */
  constructor(typecode: C, value: number | bigint = 0) {
    this.#typecode = checkTypecode(typecode) as C;
    this.#view = viewOf(this.#typecode, 1, adopting);
    if (!adopting) {
      this.#view[0] = toElement(this.#typecode, value, "the value") as never;
    }
  }

  /**
   * The typecode.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.RawValue("b", 1).typecode === "b");
   * ```
   */
  get typecode(): C {
    return this.#typecode;
  }

  /**
   * The current value (get/set accessor, as CPython's `.value`).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const v = new mp.RawValue("B", 0);
   * v.value = 257; // wraps like ctypes
   * console.assert(v.value === 1);
   * ```
   */
  get value(): ElementOf<C> {
    return this.#view[0] as ElementOf<C>;
  }

  set value(v: number | bigint) {
    this.#view[0] = toElement(this.#typecode, v, "the value") as never;
  }

  /**
   * Reads the value (as the manager's `ValueProxy.get()`).
   *
   * @returns The current value.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * console.assert(new mp.RawValue("d", 1.5).get() === 1.5);
   * ```
   */
  get(): ElementOf<C> {
    return this.value;
  }

  /**
   * Writes the value (as the manager's `ValueProxy.set()`).
   *
   * @param v The new value.
   * @throws {TypeError} for a value the typecode cannot hold.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const v = new mp.RawValue("H");
   * v.set(65536 + 7);
   * console.assert(v.get() === 7);
   * ```
   */
  set(v: number | bigint): void {
    this.value = v;
  }

  /**
   * The one-element typed array over the shared memory (for `Atomics`).
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const v = new mp.RawValue("i");
   * Atomics.add(v.view, 0, 5);
   * console.assert(v.value === 5);
   * ```
   */
  get view(): TypedArrayOf<C> {
    return this.#view;
  }

  /**
   * The handle that carries this value across `postMessage`.
   *
   * @returns The transfer handle.
   *
   * @ignore
   */
  [TRANSFER](): TransferHandle {
    return {
      tag: RAW_TAG,
      module: import.meta.url,
      data: { typecode: this.#typecode, buffer: this.#view.buffer },
    };
  }
}

/**
 * Options of the {@link Value} constructor.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const opts: mp.ValueOptions = { lock: false };
 * const v = new mp.Value("i", 1, opts);
 * v.value += 1; // no lock: only safe from one thread at a time
 * console.assert(v.value === 2);
 * ```
 */
export interface ValueOptions {
  /**
   * `true`: guard the value with a new `RLock` (CPython's default); a `Lock`
   * or `RLock`: use that one; `false`: no lock (`getLock()` throws; prefer
   * {@link RawValue}).
   *
   * @default {true}
   */
  lock?: boolean | Lock | RLock;
}

/**
 * A {@link RawValue} with a lock (CPython's synchronized
 * `multiprocessing.Value`): reads and writes are single operations, so a
 * read-modify-write such as `v.value += 1` needs `getLock()`.
 *
 * @typeParam C The typecode.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const counter = new mp.Value("i", 0);
 * {
 *   using _held = await counter.getLock().scope();
 *   counter.value += 1;
 * }
 * console.assert(counter.value === 1);
 * ```
 */
export class Value<C extends Typecode = Typecode> extends RawValue<C> {
  #lock: Lock | RLock | undefined;

  /**
   * Creates the value and its lock.
   *
   * @param typecode One of `b B h H i I l L q Q f d`.
   * @param value The initial value.
   * @param options `lock`.
   * @throws {TypeError} for an unknown typecode, a value the typecode cannot
   *   hold, or a `lock` that is not a boolean, `Lock` or `RLock`.
   */
  constructor(
    typecode: C,
    value: number | bigint = 0,
    options: ValueOptions = {},
  ) {
    super(typecode, value);
    this.#lock = adopting ? adoptingLock : lockFrom(options.lock, "value");
  }

  /**
   * The lock guarding the value.
   *
   * @returns The `Lock` or `RLock`.
   * @throws {Error} when created with `lock: false`.
   *
   * @example Usage
   * ```ts
   * import * as mp from "@mproc/multiprocessing/sharedmem";
   *
   * const v = new mp.Value("d", 0);
   * await v.getLock().acquire();
   * v.value += 0.5;
   * v.getLock().release();
   * ```
   */
  getLock(): Lock | RLock {
    if (!this.#lock) throw noLock("value");
    return this.#lock;
  }

  /**
   * The handle that carries this value and its lock across `postMessage`.
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
}

registerReviver(RAW_TAG, (data) => {
  const { typecode, buffer } = data as RawData;
  adopting = buffer;
  try {
    return new RawValue(typecode);
  } finally {
    adopting = undefined;
  }
});

registerReviver(TAG, (data) => {
  const { raw, lock } = data as { raw: RawData; lock: unknown };
  adopting = raw.buffer;
  adoptingLock = unpackLock(lock);
  try {
    return new Value(raw.typecode);
  } finally {
    adopting = undefined;
    adoptingLock = undefined;
  }
});
