// The one place that knows about msgpack. `Connection.send`/`recv`, the
// manager protocol and the sharedmem queue encode through here; the wire
// format itself is written and read by _msgpack_codec.ts (no dependency).
//
// What crosses: null, undefined, booleans, numbers, strings, bigints that fit
// in 64 bits, Uint8Array/ArrayBuffer/typed arrays (they arrive as Uint8Array
// of their bytes), Date, arrays, plain objects (class instances travel as
// their own enumerable properties), Map (arrives as an object) and Set
// (arrives as an array). Functions, symbols, cycles and wider bigints are
// refused with a TypeError naming the value's path, and nothing is returned.

import {
  decodeValue,
  encodeValue,
  MAX_DEPTH,
  REFUSED,
} from "./_msgpack_codec.ts";

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

/** A value msgpack cannot carry: its path, and why. */
function refuse(path: string, why: string): never {
  throw new TypeError(
    `Cannot serialize the value as ${path} is ${why}`,
  );
}

function key(path: string, k: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(k)
    ? `${path}.${k}`
    : `${path}[${JSON.stringify(k)}]`;
}

/** Ancestors of the value being checked (cycle detection), reused. */
const ancestors: object[] = [];

/** The fast check: no allocation, no paths. False when anything is off. */
function serializable(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
      return true;
    case "bigint":
      return v >= INT64_MIN && v <= UINT64_MAX;
    case "function":
    case "symbol":
      return false;
  }
  if (v === null) return true;
  const o = v as object;
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date) {
    return true;
  }
  if (depth > MAX_DEPTH) return false;
  for (let i = 0; i < ancestors.length; i++) {
    if (ancestors[i] === o) return false;
  }
  ancestors.push(o);
  let ok = true;
  if (Array.isArray(o)) {
    for (let i = 0; ok && i < o.length; i++) ok = serializable(o[i], depth + 1);
  } else if (o instanceof Map || o instanceof Set) {
    for (const x of o.values()) if (!(ok = serializable(x, depth + 1))) break;
  } else {
    for (const k in o) {
      if (!(ok = serializable((o as Record<string, unknown>)[k], depth + 1))) {
        break;
      }
    }
  }
  ancestors.pop();
  return ok;
}

/**
 * Throws a TypeError naming the first part of `value` that msgpack cannot
 * carry (function, symbol, cycle, bigint wider than 64 bits, too deep).
 */
export function checkSerializable(value: unknown, path = "$"): void {
  ancestors.length = 0;
  if (serializable(value, 0)) return;
  ancestors.length = 0;
  explain(value, path);
}

/** The slow walk that names the path of what the fast check refused. */
function explain(value: unknown, path: string): void {
  const seen = new Set<object>();
  const visit = (v: unknown, p: string, depth: number): void => {
    switch (typeof v) {
      case "string":
      case "number":
      case "boolean":
      case "undefined":
        return;
      case "bigint":
        if (v < INT64_MIN || v > UINT64_MAX) {
          refuse(p, "a bigint wider than 64 bits");
        }
        return;
      case "function":
        refuse(p, `a function${v.name ? ` (${v.name})` : ""}`);
        break;
      case "symbol":
        refuse(p, "a symbol");
        break;
    }
    if (v === null) return;
    const o = v as object;
    if (
      ArrayBuffer.isView(o) || o instanceof ArrayBuffer || o instanceof Date
    ) return;
    if (depth > MAX_DEPTH) refuse(p, `nested deeper than ${MAX_DEPTH} levels`);
    if (seen.has(o)) refuse(p, "a reference cycle");
    seen.add(o);
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) visit(o[i], `${p}[${i}]`, depth + 1);
    } else if (o instanceof Map) {
      for (const [k, x] of o) visit(x, key(p, String(k)), depth + 1);
    } else if (o instanceof Set) {
      let i = 0;
      for (const x of o) visit(x, `${p}[${i++}]`, depth + 1);
    } else {
      for (const k in o) {
        visit((o as Record<string, unknown>)[k], key(p, k), depth + 1);
      }
    }
    seen.delete(o);
  };
  visit(value, path, 0);
}

/**
 * Encodes one value as msgpack. The returned bytes may share a larger buffer
 * (never overwritten by later calls); copy them to own them.
 *
 * @throws {TypeError} naming the path of a value msgpack cannot carry.
 */
export function encode(value: unknown): Uint8Array {
  try {
    return encodeValue(value);
  } catch (e) {
    if (e !== REFUSED) throw e;
  }
  // The encoder met something it cannot carry: name where it is.
  checkSerializable(value);
  throw new TypeError(
    "Cannot serialize the value as it holds a function, symbol, cycle or " +
      "bigint wider than 64 bits where no path names it (a Map key, an " +
      "Error's cause or a toJSON() result); pass plain data",
  );
}

const PICKLE_HINT =
  '; it is a pickle (a CPython peer\'s send()): pass `serializer: "pickle"` to the Listener, Client or Pipe, or use send_bytes()/recv_bytes() on the Python side';

/** A pickle of protocol 2–5 starts with PROTO (0x80) and its number. */
function looksLikePickle(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x80 && bytes[1]! >= 2 &&
    bytes[1]! <= 5;
}

/**
 * Decodes exactly one msgpack value from `bytes`. Bytes arrive as plain
 * Uint8Arrays that own their memory.
 *
 * @throws {SyntaxError} when the bytes are not exactly one valid msgpack value
 * (truncated, trailing bytes, the reserved byte 0xc1, an unknown extension).
 */
export function decode(bytes: Uint8Array): unknown {
  try {
    return decodeValue(bytes);
  } catch (e) {
    if (!(e instanceof SyntaxError) || !looksLikePickle(bytes)) throw e;
    throw new SyntaxError(e.message + PICKLE_HINT, { cause: e });
  }
}
