/**
 * Python frozensets in TypeScript.
 *
 * ```ts
 * import { frozenset, isFrozenset } from "@mproc/multiprocessing/pickle";
 *
 * console.assert(isFrozenset(frozenset([1])) && !isFrozenset(new Set([1])));
 * ```
 *
 * @module
 */

import { asFrozenset, frozensetBranded } from "./_brands.ts";

/**
 * A Python frozenset: a `Set` branded so that `dumps()` writes a frozenset
 * (a plain `Set` is a set). `loads()` returns frozensets in this form.
 * Treat it as read-only: the type says so, the runtime does not enforce it.
 *
 * @typeParam T The item type.
 * @param items The items.
 * @returns A branded `Set` of them.
 *
 * @example A frozenset of ints
 * ```ts
 * import { dumps, frozenset, isFrozenset, loads } from "@mproc/multiprocessing/pickle";
 *
 * const back = loads(dumps(frozenset([1, 2])));
 * console.assert(isFrozenset(back) && (back as ReadonlySet<number>).has(2));
 * ```
 */
export function frozenset<T>(items: Iterable<T> = []): ReadonlySet<T> {
  return asFrozenset(new Set(items));
}

/**
 * Whether `x` is a frozenset made by `frozenset()` or read by `loads()`.
 *
 * @param x Any value.
 * @returns True for frozensets.
 *
 * @example Sets and frozensets
 * ```ts
 * import { frozenset, isFrozenset } from "@mproc/multiprocessing/pickle";
 *
 * console.assert(isFrozenset(frozenset()) && !isFrozenset(new Set()));
 * ```
 */
export function isFrozenset(x: unknown): boolean {
  return frozensetBranded(x);
}
