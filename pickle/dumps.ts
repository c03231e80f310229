/**
 * `dumps()`: a value as a pickle.
 *
 * ```ts
 * import { dumps } from "@mproc/multiprocessing/pickle";
 *
 * console.assert(dumps(null).join() === "128,4,78,46"); // 80 04 4e 2e
 * ```
 *
 * @module
 */

import type { PickleOptions } from "./options.ts";
import { pickle } from "./_writer.ts";

/**
 * Pickles `value` as CPython's `pickle.dumps(value, protocol)` would, so
 * that `pickle.loads()` in Python 3.11–3.13 gives the matching Python value
 * (API.md §7): `null`/`undefined` → None, booleans, numbers (int when
 * integral unless `bigints`, else float), bigints → int of any size,
 * strings → str (lone surrogates kept), `Uint8Array` (and other typed
 * arrays, `ArrayBuffer`) → bytes, a bytearray read by `loads()` →
 * bytearray, arrays → list, `tuple()` → tuple, `Map` and plain objects →
 * dict, `Set` → set, `frozenset()` → frozenset. No memo is written: shared
 * substructure is written twice.
 *
 * @param value What to pickle.
 * @param options `protocol` (default 4) and `bigints`.
 * @returns The pickle, a fresh `Uint8Array`.
 * @throws {TypeError} naming the path of a value pickle cannot carry
 * (function, symbol, class instance, Date, cycle, nesting deeper than 512,
 * an array/Map/Set/plain object as a dict key or set item); nothing is
 * returned.
 * @throws {RangeError} for a protocol other than 2–5.
 *
 * @example Python reads it
 * ```ts
 * import { dumps, loads, tuple } from "@mproc/multiprocessing/pickle";
 *
 * const bytes = dumps(new Map<unknown, unknown>([["a", 1], [tuple(1, 2), [null]]]));
 * // In Python: pickle.loads(bytes) == {'a': 1, (1, 2): [None]}
 * const back = loads(bytes) as Map<unknown, unknown>;
 * console.assert(back.get("a") === 1);
 * ```
 *
 * @example Refused values name their path
 * ```ts
 * import { dumps } from "@mproc/multiprocessing/pickle";
 *
 * try {
 *   dumps({ job: { run: () => 1 } });
 * } catch (e) {
 *   console.assert(e instanceof TypeError && e.message.includes("$.job.run"));
 * }
 * ```
 */
export function dumps(value: unknown, options: PickleOptions = {}): Uint8Array {
  return pickle(value, options);
}
