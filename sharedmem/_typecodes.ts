// CPython's array/ctypes typecodes mapped onto typed arrays. Like ctypes,
// integers wrap around on overflow ('b': 127 + 1 -> -128); 'l'/'L'/'q'/'Q'
// are 64-bit (LP64, as CPython on Linux/macOS) and read back as bigint.

import type { Typecode, TypedArrayOf } from "./typecodes.ts";

type AnyTyped =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

interface TypedCtor {
  new (
    buffer: SharedArrayBuffer,
    byteOffset?: number,
    length?: number,
  ): AnyTyped;
  readonly BYTES_PER_ELEMENT: number;
}

const CTORS: Record<Typecode, TypedCtor> = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
};

/** Throws a TypeError unless `typecode` is one of CPython's. */
export function checkTypecode(typecode: unknown): Typecode {
  if (typeof typecode !== "string" || !Object.hasOwn(CTORS, typecode)) {
    throw new TypeError(
      `Cannot create the shared value as its typecode is not one of b B h H i I l L q Q f d: current value is ${
        typeof typecode === "string"
          ? JSON.stringify(typecode)
          : String(typecode)
      }`,
    );
  }
  return typecode as Typecode;
}

/** True for the typecodes read back as bigint. */
export function isBig(typecode: Typecode): boolean {
  return typecode === "l" || typecode === "L" || typecode === "q" ||
    typecode === "Q";
}

/** A typed array of `length` elements over `buffer` (new when left out). */
export function viewOf<C extends Typecode>(
  typecode: C,
  length: number,
  buffer?: SharedArrayBuffer,
): TypedArrayOf<C> {
  const Ctor = CTORS[typecode];
  const sab = buffer ??
    new SharedArrayBuffer(Math.max(1, length) * Ctor.BYTES_PER_ELEMENT);
  return new Ctor(sab, 0, length) as TypedArrayOf<C>;
}

/**
 * Converts `v` to what a typed array of `typecode` stores, refusing what
 * ctypes refuses (non-numbers, floats for integer typecodes) with a TypeError
 * naming `what`. Wrap-around is left to the typed array.
 */
export function toElement(
  typecode: Typecode,
  v: unknown,
  what: string,
): number | bigint {
  const big = isBig(typecode);
  if (typeof v === "bigint") {
    if (typecode === "f" || typecode === "d") return Number(v);
    return big ? v : Number(BigInt.asIntN(32, v));
  }
  if (typeof v === "number") {
    if (typecode === "f" || typecode === "d") return v;
    if (!Number.isInteger(v)) {
      throw new TypeError(
        `Cannot store ${what} as typecode '${typecode}' needs an integer: current value is ${v}`,
      );
    }
    return big ? BigInt(v) : v;
  }
  if (typeof v === "boolean") return big ? BigInt(v) : Number(v);
  throw new TypeError(
    `Cannot store ${what} as it is not a number or bigint: current value is ${
      String(v)
    }`,
  );
}
