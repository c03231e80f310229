// The brands that tell Python's tuple, frozenset and bytearray apart from
// list, set and bytes. Tuples are frozen plain arrays and frozensets plain
// Sets, so they pass every `Array.isArray`/`instanceof Set` check; the brand
// is only known to this module (it does not survive structured cloning).

const TUPLES = new WeakSet<object>();
const FROZENSETS = new WeakSet<object>();
const BYTEARRAYS = new WeakSet<object>();

/** Brands and freezes `items` as a tuple; returns it. */
export function asTuple<T extends unknown[]>(items: T): Readonly<T> {
  TUPLES.add(items);
  return Object.freeze(items);
}

/** True for arrays branded by {@linkcode asTuple}. */
export function tupleBranded(x: unknown): boolean {
  return typeof x === "object" && x !== null && TUPLES.has(x);
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
