// The referent behind `SyncManager.Array(typecode, seq)` (CPython's
// `array.array` in a manager): a fixed-type array over a typed array with
// CPython's typecodes; `q`/`Q`/`l`/`L` hold bigints (a number or a bigint is
// accepted, a bigint returned), as in `sharedmem`.

import { checkTypecode, isBig, viewOf } from "../../sharedmem/_typecodes.ts";

type Typed = ReturnType<typeof viewOf>;

const RANGES: Record<string, [number, number]> = {
  b: [-128, 127],
  B: [0, 255],
  h: [-32768, 32767],
  H: [0, 65535],
  i: [-(2 ** 31), 2 ** 31 - 1],
  I: [0, 2 ** 32 - 1],
};

/** Server-side typed array. */
export class SharedArray {
  #typecode: string;
  #data: Typed;
  #big: boolean;

  /** Creates an array of `typecode` items from `seq` (or of `seq` zeros when a number). */
  constructor(
    typecode: string,
    seq: Iterable<unknown> | ArrayLike<unknown> | number,
  ) {
    const code = checkTypecode(typecode);
    this.#typecode = code;
    this.#big = isBig(code);
    if (typeof seq === "number") {
      if (!Number.isInteger(seq) || seq < 0) {
        throw new RangeError(
          `Cannot create the array as its size must be an integer >= 0: received ${seq}`,
        );
      }
      this.#data = viewOf(code, seq);
      return;
    }
    if (seq === null || typeof seq !== "object") {
      throw new TypeError(
        `Cannot create the array as seq must be an array or a size: received ${
          seq === null ? "null" : typeof seq
        }`,
      );
    }
    const items = Array.from(seq as ArrayLike<unknown>);
    this.#data = viewOf(code, items.length);
    for (let i = 0; i < items.length; i++) this.#store(i, items[i]);
  }

  #store(i: number, v: unknown): void {
    if (this.#big) {
      if (
        typeof v !== "bigint" && !(typeof v === "number" && Number.isInteger(v))
      ) {
        throw new TypeError(
          `Cannot store the item as typecode '${this.#typecode}' needs an integer: received ${
            String(v)
          }`,
        );
      }
      (this.#data as BigInt64Array)[i] = BigInt(v);
      return;
    }
    if (typeof v !== "number") {
      throw new TypeError(
        `Cannot store the item as typecode '${this.#typecode}' needs a number: received ${typeof v}`,
      );
    }
    const range = RANGES[this.#typecode];
    if (range) {
      if (!Number.isInteger(v)) {
        throw new TypeError(
          `Cannot store the item as typecode '${this.#typecode}' needs an integer: received ${v}`,
        );
      }
      if (v < range[0] || v > range[1]) {
        throw new RangeError(
          `Cannot store the item as ${v} is out of range for typecode '${this.#typecode}'`,
        );
      }
    }
    (this.#data as Float64Array)[i] = v;
  }

  #index(i: unknown): number {
    if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new TypeError(
        `Cannot index the array as the index must be an integer: received ${
          String(i)
        }`,
      );
    }
    const n = this.#data.length;
    const j = i < 0 ? i + n : i;
    if (j < 0 || j >= n) {
      throw new RangeError(
        `Cannot index the array as index ${i} is out of range`,
      );
    }
    return j;
  }

  /** The item at `i` (negative counts from the end). */
  get(i: number): number | bigint {
    return this.#data[this.#index(i)] as number | bigint;
  }

  /** Replaces the item at `i`. */
  set(i: number, v: number | bigint): void {
    this.#store(this.#index(i), v);
  }

  /** The number of items. */
  length(): number {
    return this.#data.length;
  }

  /** A copy of the items as a plain array. */
  toArray(): (number | bigint)[] {
    return Array.from(this.#data as ArrayLike<number | bigint>);
  }

  /** The typecode. */
  typecode(): string {
    return this.#typecode;
  }
}
