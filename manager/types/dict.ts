// The referent behind `SyncManager.dict(init?)` (CPython's `dict` in a
// manager). Keys are primitives (strings, numbers, bigints, booleans, null)
// and, as in CPython, keys of different types are different keys: `1` and
// `"1"` are two entries, in `size()`, `keys()`, `items()` and `has()` alike.
// `toObject()` (CPython's `copy()`) makes a plain object, whose property
// names are strings: when two keys would become the same name it refuses
// with a TypeError rather than drop one (use `items()`).

import { KeyError, show, storable } from "./_errors.ts";

type Key = string | number | bigint | boolean | null;

function checkKey(k: unknown): Key {
  if (
    k === null || typeof k === "string" || typeof k === "number" ||
    typeof k === "bigint" || typeof k === "boolean"
  ) {
    return k;
  }
  throw new TypeError(
    `Cannot use the key as it is not a string, number, bigint, boolean or null: received ${typeof k}`,
  );
}

/** Server-side dictionary. */
export class SharedDict {
  #map = new Map<Key, unknown>();

  /** Creates a dict from a plain object or an array of `[key, value]` pairs. */
  constructor(init?: Record<string, unknown> | [unknown, unknown][] | null) {
    if (init !== undefined && init !== null) this.update(init);
  }

  /** The value for `k`, or `defaultValue` (`undefined` when not given). */
  get(k: Key, defaultValue?: unknown): unknown {
    const v = this.#map.get(checkKey(k));
    return v === undefined && !this.#map.has(k) ? defaultValue : v;
  }

  /** Sets `k` to `v` (Python `d[k] = v`). */
  set(k: Key, v: unknown): void {
    this.#map.set(checkKey(k), storable(v));
  }

  /** Deletes `k` (Python `del d[k]`); a `KeyError` when missing. */
  delete(k: Key): void {
    if (!this.#map.delete(checkKey(k))) throw new KeyError(show(k));
  }

  /** True when `k` is present (Python `k in d`). */
  has(k: Key): boolean {
    return this.#map.has(checkKey(k));
  }

  /** The number of entries (Python `len(d)`). */
  size(): number {
    return this.#map.size;
  }

  /** The keys, in insertion order. */
  keys(): Key[] {
    return [...this.#map.keys()];
  }

  /** The values, in insertion order. */
  values(): unknown[] {
    return [...this.#map.values()];
  }

  /** The `[key, value]` pairs, in insertion order. */
  items(): [Key, unknown][] {
    return [...this.#map.entries()];
  }

  /** Adds the entries of a plain object or an array of pairs. */
  update(other: Record<string, unknown> | [unknown, unknown][]): void {
    if (Array.isArray(other)) {
      for (const pair of other) {
        if (!Array.isArray(pair) || pair.length !== 2) {
          throw new TypeError(
            "Cannot update the dict as each item of the array must be a [key, value] pair",
          );
        }
        this.#map.set(checkKey(pair[0]), storable(pair[1]));
      }
      return;
    }
    if (other === null || typeof other !== "object") {
      throw new TypeError(
        `Cannot update the dict from a value of type ${
          other === null ? "null" : typeof other
        }`,
      );
    }
    for (const k in other) this.#map.set(k, storable(other[k]));
  }

  /** Removes `k` and returns its value, or `defaultValue`; a `KeyError` when missing without default. */
  pop(k: Key, ...defaultValue: unknown[]): unknown {
    checkKey(k);
    if (this.#map.has(k)) {
      const v = this.#map.get(k);
      this.#map.delete(k);
      return v;
    }
    if (defaultValue.length > 0) return defaultValue[0];
    throw new KeyError(show(k));
  }

  /** Removes and returns the last inserted `[key, value]` pair; a `KeyError` when empty. */
  popitem(): [Key, unknown] {
    let last: [Key, unknown] | undefined;
    for (const e of this.#map) last = e;
    if (!last) throw new KeyError("popitem(): dictionary is empty");
    this.#map.delete(last[0]);
    return last;
  }

  /** Returns the value of `k`, setting it to `v` first when missing. */
  setdefault(k: Key, v?: unknown): unknown {
    checkKey(k);
    if (this.#map.has(k)) return this.#map.get(k);
    this.#map.set(k, storable(v));
    return v;
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }

  /**
   * A plain-object copy (CPython's `copy()`); keys become property names
   * (strings). A TypeError when two keys would become the same name.
   */
  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const from = new Map<string, Key>();
    for (const [k, v] of this.#map) {
      const name = String(k);
      if (from.has(name)) {
        throw new TypeError(
          `Cannot copy the dict to a plain object as the keys ${
            show(from.get(name))
          } and ${
            show(k)
          } would both become the property "${name}": use items() to keep both`,
        );
      }
      from.set(name, k);
      out[name] = v;
    }
    return out;
  }
}
