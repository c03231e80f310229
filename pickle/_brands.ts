// The brands that tell Python's tuple, frozenset and bytearray apart from
// list, set and bytes. A tuple is a frozen plain array: freezing is the
// brand (a WeakSet entry costs ~3x a freeze, per tuple read), so
// `Object.freeze([1, 2])` is a tuple too. Frozensets and bytearrays are plain
// Sets and Uint8Arrays branded in a WeakSet only this module knows (the brand
// does not survive structured cloning). All pass every `Array.isArray` /
// `instanceof` check.

const FROZENSETS = new WeakSet<object>();
const BYTEARRAYS = new WeakSet<object>();

/** Brands and freezes `items` as a tuple; returns it. */
export function asTuple<T extends unknown[]>(items: T): Readonly<T> {
  return Object.freeze(items);
}

/** True for frozen arrays (made by {@linkcode asTuple} or `Object.freeze`). */
export function tupleBranded(x: unknown): boolean {
  return Array.isArray(x) && Object.isFrozen(x);
}

/** Brands `set` as a frozenset; returns it. */
export function asFrozenset<T>(set: Set<T>): ReadonlySet<T> {
  FROZENSETS.add(set);
  return set;
}

/** True for Sets branded by {@linkcode asFrozenset}. */
export function frozensetBranded(x: unknown): boolean {
  return typeof x === "object" && x !== null && FROZENSETS.has(x);
}

/** Brands `bytes` as a Python bytearray; returns it. */
export function asBytearray(bytes: Uint8Array): Uint8Array {
  BYTEARRAYS.add(bytes);
  return bytes;
}

/** True for Uint8Arrays read from a Python bytearray. */
export function bytearrayBranded(x: unknown): boolean {
  return typeof x === "object" && x !== null && BYTEARRAYS.has(x);
}
