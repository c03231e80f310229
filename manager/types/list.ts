// The referent behind `SyncManager.list(init?)` (CPython's `list` in a
// manager), with Python's indexing: negative indices count from the end.

import { compare, equal } from "./_compare.ts";
import { IndexError, show, storable, ValueError } from "./_errors.ts";

function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new TypeError(
      `Cannot use the ${what} as it must be an integer: received ${String(v)}`,
    );
  }
  return v;
}

/** Clamps a slice bound the way Python does. */
function bound(v: number | undefined | null, n: number, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  int(v, "slice bound");
  if (v < 0) return Math.max(0, v + n);
  return Math.min(v, n);
}

/** Options of `sort()`. */
export interface SortOptions {
  /** Sort in descending order. @default {false} */
  reverse?: boolean;
}

/** Server-side list. */
export class SharedList {
  #items: unknown[];

  /** Creates a list from an array (copied). */
  constructor(init?: unknown[] | null) {
    if (init === undefined || init === null) this.#items = [];
    else if (Array.isArray(init)) this.#items = init.slice();
    else {throw new TypeError(
        `Cannot create the list from a value of type ${typeof init}`,
      );}
  }

  #index(i: unknown): number {
    const n = this.#items.length;
    const k = int(i, "index");
    const j = k < 0 ? k + n : k;
    if (j < 0 || j >= n) throw new IndexError("list index out of range");
    return j;
  }

  /** The number of items (Python `len(l)`). */
  length(): number {
    return this.#items.length;
  }

  /** The item at `i` (Python `l[i]`). */
  get(i: number): unknown {
    return this.#items[this.#index(i)];
  }

  /** Replaces the item at `i` (Python `l[i] = v`). */
  set(i: number, v: unknown): void {
    this.#items[this.#index(i)] = storable(v);
  }

  /** Appends `v`. */
  append(v: unknown): void {
    this.#items.push(storable(v));
  }

  /** Appends every item of `values`. */
  extend(values: unknown[]): void {
    if (!Array.isArray(values)) {
      throw new TypeError(
        `Cannot extend the list with a value of type ${typeof values}`,
      );
    }
    for (const v of values) this.#items.push(storable(v));
  }

  /** Inserts `v` before index `i` (clamped, as in Python). */
  insert(i: number, v: unknown): void {
    const n = this.#items.length;
    const k = int(i, "index");
    const j = k < 0 ? Math.max(0, k + n) : Math.min(k, n);
    this.#items.splice(j, 0, storable(v));
  }

  /** Removes and returns the item at `i` (default: the last). */
  pop(i: number = -1): unknown {
    if (this.#items.length === 0) throw new IndexError("pop from empty list");
    const j = this.#index(i);
    return this.#items.splice(j, 1)[0];
  }

  /** Removes the first item equal to `v`; a `ValueError` when there is none. */
  remove(v: unknown): void {
    const j = this.#items.findIndex((x) => equal(x, v));
    if (j < 0) throw new ValueError(`list.remove(x): ${show(v)} not in list`);
    this.#items.splice(j, 1);
  }

  /** The index of the first item equal to `v` in `[start, end)`; a `ValueError` when there is none. */
  index(v: unknown, start?: number, end?: number): number {
    const n = this.#items.length;
    const s = bound(start, n, 0);
    const e = bound(end, n, n);
    for (let i = s; i < e; i++) if (equal(this.#items[i], v)) return i;
    throw new ValueError(`${show(v)} is not in list`);
  }

  /** How many items equal `v`. */
  count(v: unknown): number {
    let c = 0;
    for (const x of this.#items) if (equal(x, v)) c++;
    return c;
  }

  /** Reverses the list in place. */
  reverse(): void {
    this.#items.reverse();
  }

  /** Sorts in place with Python's ordering (numbers, strings or arrays; no mixing). */
  sort(opts?: SortOptions | null): void {
    const rev = Boolean(opts?.reverse);
    this.#items.sort(rev ? (a, b) => compare(b, a) : compare);
  }

  /** The items in `[start, end)` (Python `l[start:end]`). */
  slice(start?: number | null, end?: number | null): unknown[] {
    const n = this.#items.length;
    return this.#items.slice(bound(start, n, 0), bound(end, n, n));
  }

  /** A copy of every item. */
  toArray(): unknown[] {
    return this.#items.slice();
  }
}
