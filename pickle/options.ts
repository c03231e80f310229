/**
 * Options of the pickle codec (API.md §7).
 *
 * ```ts
 * import { dumps, type PickleOptions } from "@mproc/multiprocessing/pickle";
 *
 * const options: PickleOptions = { protocol: 5, bigints: true };
 * console.assert(dumps(1n, options)[1] === 5);
 * ```
 *
 * @module
 */

/**
 * How values are pickled and unpickled.
 *
 * @example Lossless ints and floats
 * ```ts
 * import { dumps, loads } from "@mproc/multiprocessing/pickle";
 *
 * // With bigints, Python's 2 (int) and 2.0 (float) stay apart.
 * const back = loads(dumps([2n, 2], { bigints: true }), { bigints: true });
 * console.assert((back as unknown[])[0] === 2n && (back as unknown[])[1] === 2);
 * ```
 */
export interface PickleOptions {
  /**
   * The protocol `dumps()`/`send()` write: 2 to 5 (CPython 3.8–3.13 write
   * 4). Reading accepts 2–5 whatever this says.
   *
   * @default {4}
   */
  protocol?: 2 | 3 | 4 | 5;
  /**
   * Every Python int decodes as a bigint, and every JS number is written as
   * a Python float: lossless both ways. When false, an int decodes as a
   * number when it is a safe integer (else a bigint), and an integral
   * number is written as an int.
   *
   * @default {false}
   */
  bigints?: boolean;
}
