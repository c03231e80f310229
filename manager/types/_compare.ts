// Python-like equality and ordering for values stored in managed containers.

/** Structural equality (Python `==` for msgpack-able values). */
export function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === "number" && typeof b === "bigint") {
    return Number.isInteger(a) && BigInt(a) === b;
  }
  if (typeof a === "bigint" && typeof b === "number") return equal(b, a);
  if (
    typeof a !== "object" || typeof b !== "object" || a === null || b === null
  ) {
    return false;
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (
      !Object.hasOwn(b, k) ||
      !equal(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
      )
    ) return false;
  }
  return true;
}

function rank(v: unknown): string {
  if (
    typeof v === "number" || typeof v === "bigint" || typeof v === "boolean"
  ) return "number";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "array";
  return v === null ? "null" : typeof v;
}

/** Python-like ordering: numbers with numbers, strings with strings, arrays lexicographically. */
export function compare(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb || (ra !== "number" && ra !== "string" && ra !== "array")) {
    throw new TypeError(`Cannot compare values of types ${ra} and ${rb}`);
  }
  if (ra === "array") {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < x.length && i < y.length; i++) {
      const c = compare(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  const x = typeof a === "boolean" ? Number(a) : a as number | string;
  const y = typeof b === "boolean" ? Number(b) : b as number | string;
  return x < y ? -1 : x > y ? 1 : 0;
}
