// The referent behind `SyncManager.Value(typecode, value)` (CPython's
// `managers.Value`): holds one value; the typecode is kept for reference.

import { storable } from "./_errors.ts";

/** Server-side single value. */
export class SharedValue {
  #typecode: string;
  #value: unknown;

  /** Creates a value cell. */
  constructor(typecode: string, value: unknown) {
    if (typeof typecode !== "string") {
      throw new TypeError(
        `Cannot create the value as its typecode must be a string: received ${typeof typecode}`,
      );
    }
    this.#typecode = typecode;
    this.#value = storable(value);
  }

  /** The value. */
  get(): unknown {
    return this.#value;
  }

  /** Replaces the value. */
  set(value: unknown): void {
    this.#value = storable(value);
  }

  /** The typecode given at creation. */
  typecode(): string {
    return this.#typecode;
  }
}
