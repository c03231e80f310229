// Python's error names for failures of the container referents; they arrive
// at the client as a `RemoteError` whose `remoteName` is this name.

/** A missing key (Python `KeyError`). */
export class KeyError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "KeyError";
  }
}

/** An index out of range (Python `IndexError`). */
export class IndexError extends RangeError {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "IndexError";
  }
}

/** A value not found or not allowed (Python `ValueError`). */
export class ValueError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "ValueError";
  }
}

/** A missing attribute (Python `AttributeError`). */
export class AttributeError extends Error {
  /** Creates the error. */
  constructor(message: string) {
    super(message);
    this.name = "AttributeError";
  }
}

/** Describes a key for an error message. */
export function show(v: unknown): string {
  try {
    return typeof v === "string"
      ? `'${v}'`
      : typeof v === "bigint"
      ? `${v}n`
      : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Prototypes of other values that may be stored (registered by their modules). */
export const STORABLE: Set<object> = new Set();

/**
 * Refuses to store a referent (a proxy passed as an argument arrives as its
 * referent): containers hold plain values; nested proxies are not supported.
 */
export function storable<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    const p = Object.getPrototypeOf(v);
    if (
      p !== Object.prototype && p !== null && p !== Array.prototype &&
      !ArrayBuffer.isView(v) && !(v instanceof Date) &&
      // Python values (dict, set, frozenset) and proxies stored by CPython
      // clients (references of this server, see server/_cpython_door.ts).
      !(v instanceof Map) && !(v instanceof Set) && !STORABLE.has(p)
    ) {
      throw new TypeError(
        "Cannot store a shared object inside another one: nested proxies are not supported, store plain values (or proxy.token)",
      );
    }
  }
  return v;
}
