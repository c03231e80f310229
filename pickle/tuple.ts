/**
 * Python tuples in TypeScript.
 *
 * ```ts
 * import { isTuple, tuple } from "@mproc/multiprocessing/pickle";
 *
 * console.assert(isTuple(tuple(1, 2)) && !isTuple([1, 2]));
 * ```
 *
 * @module
 */

import { asTuple, tupleBranded } from "./_brands.ts";

/**
 * A Python tuple: a frozen array, so that `dumps()` writes a tuple (an
 * array that is not frozen is a list; any frozen array, `Object.freeze([1,
 * 2])` too, is a tuple). `loads()` returns tuples in this form.
 *
 * @typeParam T The item types.
 * @param items The items.
 * @returns A frozen array of them.
 *
 * @example A tuple as a dict key
 * ```ts
 * import { dumps, loads, tuple } from "@mproc/multiprocessing/pickle";
 *
 * const point = tuple(1, 2);
 * const bytes = dumps(new Map([[point, "here"]])); // {(1, 2): 'here'} in Python
 * console.assert((loads(bytes) as Map<unknown, unknown>).size === 1);
 * ```
 */
export function tuple<T extends unknown[]>(...items: T): Readonly<T> {
  return asTuple(items);
}

/**
 * Whether `x` is a tuple: a frozen array, as `tuple()` makes and `loads()`
 * returns.
 *
 * @param x Any value.
 * @returns True for tuples.
 *
 * @example Tuples and lists
 * ```ts
 * import { isTuple, loads } from "@mproc/multiprocessing/pickle";
 *
 * // pickle.dumps(((), []), 4)
 * const v = loads(new Uint8Array([0x80, 0x04, 0x29, 0x5d, 0x86, 0x2e])) as unknown[];
 * console.assert(isTuple(v) && isTuple(v[0]) && !isTuple(v[1]));
 * ```
 */
export function isTuple(x: unknown): boolean {
  return tupleBranded(x);
}
