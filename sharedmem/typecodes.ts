/**
 * CPython's array/ctypes typecodes as types: which typecodes exist, which
 * read back as bigint, and the element and typed-array type of each.
 *
 * @module
 */

/**
 * A CPython typecode accepted by `Value`, `Array`, `RawValue`, `RawArray`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const code: mp.Typecode = "d";
 * console.assert(new mp.RawValue(code, 1.5).value === 1.5);
 * ```
 */
export type Typecode =
  | "b"
  | "B"
  | "h"
  | "H"
  | "i"
  | "I"
  | "l"
  | "L"
  | "q"
  | "Q"
  | "f"
  | "d";

/**
 * The typecodes whose values are 64-bit integers, read back as bigint.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const code: mp.BigTypecode = "q";
 * console.assert(new mp.RawValue(code, 5).value === 5n);
 * ```
 */
export type BigTypecode = "l" | "L" | "q" | "Q";

/**
 * What reading an element of typecode `C` returns.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const x: mp.ElementOf<"Q"> = 2n ** 40n;
 * const y: mp.ElementOf<"f"> = 0.5;
 * console.assert(typeof x === "bigint" && typeof y === "number");
 * ```
 */
export type ElementOf<C extends Typecode> = C extends BigTypecode ? bigint
  : number;

/**
 * The typed array that holds elements of typecode `C`.
 *
 * @example Usage
 * ```ts
 * import * as mp from "@mproc/multiprocessing/sharedmem";
 *
 * const view: mp.TypedArrayOf<"h"> = new mp.RawArray("h", [1, 2]).view;
 * console.assert(view instanceof Int16Array);
 * ```
 */
export type TypedArrayOf<C extends Typecode> = {
  b: Int8Array;
  B: Uint8Array;
  h: Int16Array;
  H: Uint16Array;
  i: Int32Array;
  I: Uint32Array;
  l: BigInt64Array;
  L: BigUint64Array;
  q: BigInt64Array;
  Q: BigUint64Array;
  f: Float32Array;
  d: Float64Array;
}[C];
