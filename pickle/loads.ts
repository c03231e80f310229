/**
 * `loads()`: a pickle as a value, safely.
 *
 * ```ts
 * import { loads } from "@mproc/multiprocessing/pickle";
 *
 * console.assert(loads(new Uint8Array([0x80, 0x04, 0x4e, 0x2e])) === null);
 * ```
 *
 * @module
 */

import type { PickleOptions } from "./options.ts";
import { type ReadOptions, unpickle } from "./_reader.ts";
import { PLAIN_PROFILE } from "./_globals.ts";

const PLAIN: ReadOptions = { profile: PLAIN_PROFILE };
const PLAIN_BIGINTS: ReadOptions = { bigints: true, profile: PLAIN_PROFILE };

/**
 * Unpickles one value written by CPython 3.11–3.13 with protocol 2–5
 * (API.md §7): None → `null`, bool, int → number when safe else bigint (or
 * always bigint with `bigints`), float → number, str → string (lone
 * surrogates and a leading U+FEFF kept), bytes → `Uint8Array`, bytearray →
 * `Uint8Array` (written back as a bytearray by `dumps()`), list → array,
 * tuple → frozen array (`isTuple()`), dict → `Map`, set → `Set`, frozenset
 * → `Set` (`isFrozenset()`).
 *
 * Nothing is executed or looked up by name: the only globals read are
 * `builtins.set`, `frozenset`, `bytearray`, `bytes` and `_codecs.encode`.
 *
 * @param bytes Exactly one pickle (no byte after STOP).
 * @param options `bigints`; `protocol` is ignored (every one of 2–5 is read).
 * @returns The value.
 * @throws {UnpicklingError} naming what was refused and where: any other
 * global (`global posix.system is not allowed`), unknown opcodes and
 * PERSID/BINPERSID/EXT1/EXT2/EXT4/INST/OBJ, nesting deeper than 512, more
 * than 10^6 values after memo expansion, cycles, lengths past the end of the
 * data or frame, a memo fetch of an unset slot, unhashable dict keys or set
 * items, bytes after STOP, truncated data.
 *
 * @example CPython's bytes for `{'a': (1, 2.5)}`
 * ```ts
 * import { isTuple, loads } from "@mproc/multiprocessing/pickle";
 *
 * // pickle.dumps({'a': (1, 2.5)}, 2)
 * const hex = "80027d710058010000006171014b01474004000000000000867102732e";
 * const bytes = new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
 * const value = loads(bytes) as Map<string, unknown>;
 * const t = value.get("a") as unknown[];
 * console.assert(isTuple(t) && t[0] === 1 && t[1] === 2.5);
 * ```
 */
export function loads(bytes: Uint8Array, options: PickleOptions = {}): unknown {
  return unpickle(bytes, options.bigints === true ? PLAIN_BIGINTS : PLAIN);
}
