// Seeded random values of the pickle domain (API.md §7), for the fuzz and
// round-trip tests and the bench.

import { frozenset, isFrozenset, isTuple, tuple } from "../../pickle/mod.ts";
import { bytearrayBranded } from "../../pickle/_brands.ts";

export { prng } from "../connection/_helpers.ts";

/** A random hashable value (dict key / set item). */
function key(r: () => number, depth: number): unknown {
  const k = (r() * 6) | 0;
  switch (k) {
    case 0:
      return (r() * 1000 | 0) - 500;
    case 1:
      return text(r);
    case 2:
      return BigInt(Math.floor(r() * 2 ** 40)) ** 2n;
    case 3:
      return depth > 2 ? null : tuple(key(r, depth + 1), key(r, depth + 1));
    case 4:
      return new Uint8Array([1, 2, (r() * 256) | 0]);
    default:
      return r() < 0.5;
  }
}

/** A random string, sometimes with a lone surrogate or a leading BOM. */
export function text(r: () => number): string {
  const n = (r() * 12) | 0;
  let s = r() < 0.1 ? "\ufeff" : "";
  for (let i = 0; i < n; i++) {
    const k = r();
    s += k < 0.6
      ? String.fromCharCode(0x61 + ((r() * 26) | 0))
      : k < 0.8
      ? String.fromCharCode(0xa0 + ((r() * 0x700) | 0))
      : k < 0.9
      ? "😀"
      : String.fromCharCode(0xd800 + ((r() * 0x800) | 0));
  }
  return s;
}

/** A random value made only of what loads() returns. */
export function randomValue(r: () => number, depth = 0): unknown {
  const k = (r() * (depth > 3 ? 9 : 14)) | 0;
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return (r() * 2 ** 31 | 0) - 2 ** 30;
    case 3:
      return r() < 0.5 ? r() * 1e6 + 0.5 : -0.0;
    case 4:
      return (r() < 0.5 ? -1n : 1n) * BigInt(Math.floor(r() * 2 ** 52)) ** 3n;
    case 5:
      return text(r);
    case 6:
      return Uint8Array.from({ length: (r() * 40) | 0 }, () => (r() * 256) | 0);
    case 7:
      return (r() * 2 ** 53) - 2 ** 52 | 0;
    case 8:
      return NaN;
    case 9:
      return Array.from(
        { length: (r() * 5) | 0 },
        () => randomValue(r, depth + 1),
      );
    case 10:
      return tuple(
        ...Array.from(
          { length: (r() * 5) | 0 },
          () => randomValue(r, depth + 1),
        ),
      );
    case 11:
      return new Map(
        Array.from(
          { length: (r() * 4) | 0 },
          () => [key(r, 0), randomValue(r, depth + 1)],
        ),
      );
    case 12:
      return new Set(Array.from({ length: (r() * 4) | 0 }, () => key(r, 0)));
    default:
      return frozenset(Array.from({ length: (r() * 4) | 0 }, () => key(r, 0)));
  }
}

/** Deep equality that also compares the tuple/frozenset/bytearray brands. */
export function samePy(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === "number") return Object.is(a, b);
  if (typeof a !== "object" || a === null || b === null) return a === b;
  const o = b as object;
  if (Array.isArray(a)) {
    return Array.isArray(o) && isTuple(a) === isTuple(o) &&
      a.length === o.length && a.every((x, i) => samePy(x, o[i]));
  }
  if (a instanceof Uint8Array) {
    return o instanceof Uint8Array &&
      bytearrayBranded(a) === bytearrayBranded(o) &&
      a.length === o.length && a.every((x, i) => x === o[i]);
  }
  if (a instanceof Map) {
    if (!(o instanceof Map) || a.size !== o.size) return false;
    const bs = [...o];
    return [...a].every(([k, v], i) =>
      samePy(k, bs[i]![0]) && samePy(v, bs[i]![1])
    );
  }
  if (a instanceof Set) {
    if (!(o instanceof Set) || a.size !== o.size) return false;
    if (isFrozenset(a) !== isFrozenset(o)) return false;
    const bs = [...o];
    return [...a].every((x, i) => samePy(x, bs[i]));
  }
  return false;
}
