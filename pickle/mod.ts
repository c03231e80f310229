/**
 * A safe pickle codec for talking objects with CPython (API.md §7):
 * `dumps`/`loads` of protocols 2–5 with the plain-data mapping (dict ↔
 * `Map`, tuple ↔ `tuple()`, frozenset ↔ `frozenset()`, int ↔ number or
 * bigint), and a reader that executes nothing and looks nothing up by name.
 *
 * ```ts
 * import { dumps, loads, tuple } from "@mproc/multiprocessing/pickle";
 *
 * const bytes = dumps({ op: "add", args: tuple(1, 2) }); // Python: pickle.loads(bytes)
 * const back = loads(bytes) as Map<string, unknown>;
 * console.assert(back.get("op") === "add");
 * ```
 *
 * @module
 */

export { dumps } from "./dumps.ts";
export { loads } from "./loads.ts";
export { isTuple, tuple } from "./tuple.ts";
export { frozenset, isFrozenset } from "./frozenset.ts";
export { UnpicklingError } from "./errors.ts";
export type { PickleOptions } from "./options.ts";
